"""The BigQuery billing export as a billing source: the real google-cloud-bigquery client against the stand-in,
the requests it sends, and the rows that land in a real warehouse."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from etl import pipelines
from etl.billing.base import LoadOptions
from etl.config import load_config
from etl.gcp.bigquery_export import BigQuerySource, invoice_months, query_sql
from etl.warehouse import Warehouse
from tests.gcp.bigquery_standin import JOBS, RESULTS, QueryResult, install, queries, row
from tests.gcp.standin import StandIn, error_body

TABLE = "billing-admin.billing_export.gcp_billing_export_v1_012345_6789AB_CDEF01"
LABEL = f"bigquery:{TABLE}"
NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)  # invoice month 202506 in Pacific time


def source(**options: object) -> BigQuerySource:
    return BigQuerySource.parse(TABLE, "test", **options)  # type: ignore[arg-type]


@pytest.fixture
def standin() -> StandIn:
    with StandIn() as server:
        yield server


def config_for(tmp_path: Path, standin: StandIn, db_path: Path):
    path = tmp_path / "bq.toml"
    path.write_text(f'db = "{db_path}"\n[gcp]\ncredentials = "anonymous"\nbigquery_endpoint = "{standin.endpoint}"\n')
    return load_config(path, environ={})


def load(config, db_path: Path, bq: BigQuerySource, now: datetime = NOW):
    fetched = pipelines.fetch_bigquery(config, bq, now=now)
    with Warehouse(db_path).write("test") as session:
        [record] = pipelines.load_bigquery(session, [fetched], LoadOptions())
    assert fetched.spool is None or not fetched.spool.parent.exists()  # the spool is removed after the load
    return record


def totals(query, month_start: str | None = None) -> list[tuple]:
    where = f"WHERE BillingPeriodStart = TIMESTAMP '{month_start}'" if month_start else ""
    return query(f"SELECT BillingCurrency, count(*), sum(BilledCost), sum(ListCost), sum(ContractedCost) FROM cost "
                 f"{where} GROUP BY 1 ORDER BY 1")


def test_invoice_months_first_run_backfills_then_current_previous_and_since_the_last_load():
    assert invoice_months(NOW, None, 3) == ["202504", "202505", "202506"]
    assert invoice_months(NOW, datetime(2025, 6, 19, tzinfo=UTC), 3) == ["202505", "202506"]
    assert invoice_months(NOW, datetime(2025, 3, 2, tzinfo=UTC), 13) == ["202502", "202503", "202504", "202505",
                                                                         "202506"]
    # 2025-07-01 03:00 UTC is still June 30 in Los Angeles: invoice month 202506
    assert invoice_months(datetime(2025, 7, 1, 3, tzinfo=UTC), None, 1) == ["202506"]


def test_the_query_groups_by_the_grain_and_reads_only_the_months_it_needs():
    sql = query_sql(source(), ["202505", "202506"])
    assert f"FROM `{TABLE}`" in sql
    assert "WHERE invoice.month IN ('202505', '202506')" in sql
    assert "_PARTITIONTIME >= TIMESTAMP(DATE_SUB(DATE '2025-05-01', INTERVAL 1 DAY))" in sql
    assert sql.rstrip().endswith(
        "GROUP BY billing_account_id, invoice_month, usage_date, project_id, service_id, service_description, "
        "sku_id, sku_description, location_region, location_name, currency, cost_type")
    assert "DATE(usage_start_time, 'America/Los_Angeles') AS usage_date" in sql
    # credits by type, each from the row's own array: never a join against another repeated field
    assert ("SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) c WHERE c.type = 'PROMOTION'), "
            "0)) AS credit_promotion") in sql
    assert not re.search(r",\s*UNNEST\(", sql) and "JOIN" not in sql.upper()
    labelled = query_sql(source(labels=True), ["202506"])
    assert "TO_JSON_STRING(labels) AS labels_json" in labelled and labelled.rstrip().endswith("cost_type, labels_json")


def test_rows_are_streamed_page_by_page_into_the_warehouse(tmp_path, standin, db_path, query):
    rows = [row(usage_date=datetime(2025, 6, d).date(), cost=Decimal("10.123456789"),
                cost_at_list=Decimal("12.5"), credit_sustained_usage_discount=Decimal("-1.5"),
                credit_promotion=Decimal("-0.25")) for d in range(1, 8)]
    rows += [row(invoice_month="202505", usage_date=datetime(2025, 5, 31).date(), currency="USD",
                 cost=Decimal("3.3"), cost_at_list=Decimal("3.3"), sku_id="CP-T4", cost_type="tax",
                 labels_json='[{"key":"team","value":"ml"},{"key":"env","value":"prod"}]')]
    result = QueryResult(rows, bytes_processed=7_340_032)
    install(standin, result)
    bq = source(max_bytes_billed=10_000_000, backfill_months=2)
    config = config_for(tmp_path, standin, db_path)
    from etl.gcp import bigquery_export
    bigquery_export.PAGE_ROWS, saved = 3, bigquery_export.PAGE_ROWS
    try:
        record = load(config, db_path, bq)
    finally:
        bigquery_export.PAGE_ROWS = saved

    assert record.status == "loaded", record.error
    assert record.rows == 8 and record.source == LABEL
    dry, real = queries(standin)
    assert dry["dryRun"] is True and "maximumBytesBilled" not in dry["query"]
    assert "dryRun" not in real and real["query"]["maximumBytesBilled"] == "10000000"
    assert dry["query"]["query"] == real["query"]["query"]
    assert "invoice.month IN ('202505', '202506')" in real["query"]["query"]
    pages = standin.sent("GET", RESULTS)
    assert [p.param("pageToken") for p in pages] == [None, "3", "6"]
    assert {p.param("maxResults") for p in pages} == {"3"}
    assert standin.sent("GET", r"/bigquery/v2/projects/billing-admin/jobs/[^/]+")  # the RUNNING job was polled

    # totals to the cent: billed = cost + credits; list = cost_at_list; contracted = cost
    assert totals(query) == [("USD", 8, Decimal("61.914197523"),
                              Decimal("90.8"), Decimal("74.164197523"))]
    [line] = query(
        """
        SELECT ServiceProviderName, BillingAccountId, SubAccountId, ServiceName, SkuId, RegionId, ChargeCategory,
               BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd, x_SourceFormat, x_SourceFile, x_SourceLine
        FROM cost WHERE ChargePeriodStart = TIMESTAMP '2025-06-03 07:00:00'
        """)
    assert line == ("Google Cloud", "012345-6789AB-CDEF01", "ml-training", "Compute Engine", "CP-A100",
                    "us-central1", "Usage", datetime(2025, 6, 1, 7), datetime(2025, 6, 3, 7), datetime(2025, 6, 4, 7),
                    LABEL, LABEL, 3)
    assert query("SELECT ChargeCategory, BilledCost, Tags::VARCHAR FROM cost WHERE SkuId = 'CP-T4'") == [
        ("Tax", Decimal("3.3"), '{"team":"ml","env":"prod"}')]
    assert query("SELECT status, source, rows, message FROM load_log") == [
        ("loaded", LABEL, 8, "invoice months 202505-202506 re-read; dry run 7,340,032 bytes; 192 export rows "
                             "aggregated in BigQuery")]


@pytest.mark.parametrize(("status", "reason"), [(503, "backendError"), (429, "rateLimitExceeded")])
def test_a_transient_error_is_retried_by_the_client(tmp_path, standin, db_path, query, status, reason):
    install(standin, QueryResult([row()]))
    standin.fail("POST", JOBS, status, "try again", reason=reason)
    standin.fail("GET", RESULTS, status, "try again", reason=reason)
    record = load(config_for(tmp_path, standin, db_path), db_path, source())
    assert record.status == "loaded", record.error
    assert len(standin.sent("POST", JOBS)) == 3  # the dry run once more, then the query
    assert len(standin.sent("GET", RESULTS)) >= 2
    assert totals(query) == [("USD", 1, Decimal("100.00"), Decimal("120.00"), Decimal("100.00"))]


def test_a_permission_error_names_the_table_and_the_project(
        tmp_path, standin, db_path, query):
    install(standin, QueryResult([row()]))
    standin.fail("POST", JOBS, 403, "Access Denied: Project billing-admin: User does not have bigquery.jobs.create "
                 "permission in project billing-admin.", reason="accessDenied", times=5)
    record = load(config_for(tmp_path, standin, db_path), db_path, source())
    assert record.status == "failed"
    assert "permission denied (Access Denied: Project billing-admin" in record.error
    assert TABLE in record.error and "project billing-admin" in record.error
    assert query("SELECT status, source, error FROM load_log") == [("failed", LABEL, record.error)]
    assert query("SELECT count(*) FROM cost") == [(0,)]
    assert not standin.sent("GET", RESULTS)


def test_a_dry_run_over_the_byte_limit_fails_with_the_estimate_and_writes_nothing(tmp_path, standin, db_path,
                                                                                   query):
    install(standin, QueryResult([row()], bytes_processed=25_000_000_000))
    record = load(config_for(tmp_path, standin, db_path), db_path, source(max_bytes_billed=20_000_000_000))
    assert record.status == "failed"
    assert ("the query would process 25,000,000,000 bytes (25.00 GB), more than max_bytes_billed 20,000,000,000 "
            "(20.00 GB)") in record.error
    assert [q.get("dryRun") for q in queries(standin)] == [True]  # the real query was never sent
    assert query("SELECT count(*) FROM cost") == [(0,)]
    assert query("SELECT status FROM load_log") == [("failed",)]


def test_a_rerun_replaces_the_re_read_months_only(tmp_path, standin, db_path, query):
    config = config_for(tmp_path, standin, db_path)
    may, june = ("202505", datetime(2025, 5, 20).date()), ("202506", datetime(2025, 6, 10).date())
    first = QueryResult([row(invoice_month=m, usage_date=d, cost=Decimal("10")) for m, d in (may, june)]
                        + [row(invoice_month="202504", usage_date=datetime(2025, 4, 3).date(), cost=Decimal("7"))])
    install(standin, first)
    assert load(config, db_path, source(backfill_months=3)).status == "loaded"

    standin._routes.clear()  # the next run (in July, just after the first): June restated, a July row
    july = ("202507", datetime(2025, 7, 2).date())
    install(standin, QueryResult([row(invoice_month=m, usage_date=d, cost=c) for (m, d), c in
                                  ((june, Decimal("11.5")), (july, Decimal("1")))]))
    record = load(config, db_path, source(backfill_months=3), now=datetime(2025, 7, 5, tzinfo=UTC))
    assert record.status == "loaded", record.error
    assert "invoice.month IN ('202506', '202507')" in queries(standin)[-1]["query"]["query"]
    assert query("SELECT strftime(BillingPeriodStart, '%Y%m'), sum(BilledCost), count(*), min(x_LoadId) FROM cost "
                 "GROUP BY 1 ORDER BY 1") == [("202504", Decimal("7"), 1, 1), ("202505", Decimal("10"), 1, 1),
                                              ("202506", Decimal("11.5"), 1, 2), ("202507", Decimal("1"), 1, 2)]
    assert query("SELECT sum(billed_cost) FROM daily_spend") == [(Decimal("29.5"),)]


def test_an_empty_result_for_a_loaded_month_fails_closed_and_keeps_its_rows(tmp_path, standin, db_path, query):
    config = config_for(tmp_path, standin, db_path)
    install(standin, QueryResult([row(invoice_month="202505", usage_date=datetime(2025, 5, 9).date()),
                                  row(usage_date=datetime(2025, 6, 9).date())]))
    assert load(config, db_path, source(backfill_months=2)).status == "loaded"
    before = totals(query)

    standin._routes.clear()  # June's rows are gone from the result (an export problem), May's are restated
    install(standin, QueryResult([row(invoice_month="202505", usage_date=datetime(2025, 5, 9).date(),
                                      cost=Decimal("1"))]))
    record = load(config, db_path, source(backfill_months=2))
    assert record.status == "failed"
    assert "BigQuery returned no rows for invoice month(s) 202506 (1 rows kept) loaded earlier from this table" in \
        record.error
    assert totals(query) == before  # nothing replaced, May included: the source fails as a whole

    standin._routes.clear()
    install(standin, QueryResult([]))
    record = load(config, db_path, source(backfill_months=2))
    assert record.status == "failed" and "202505 (1 rows kept), 202506 (1 rows kept)" in record.error
    assert totals(query) == before
    assert [s for (s,) in query("SELECT status FROM load_log ORDER BY load_id")] == ["loaded", "failed", "failed"]


def test_a_bigquery_that_does_not_answer_fails_the_source_within_the_timeout_setting(tmp_path, standin, db_path,
                                                                                    query):
    def slow(request, match):  # the query's results never come in time: every call outlasts gcp.timeout_s
        time.sleep(3)
        return 503, error_body(503, "too late")

    standin.route("GET", RESULTS, slow)  # routes answer in order: before the stand-in's own results
    install(standin, QueryResult([row()]))
    config_for(tmp_path, standin, db_path)
    (tmp_path / "bq.toml").write_text((tmp_path / "bq.toml").read_text() + "timeout_s = 1\n")  # under [gcp]
    config = load_config(tmp_path / "bq.toml", environ={})
    assert config.get("gcp.timeout_s") == 1.0
    record = load(config, db_path, source())
    assert record.status == "failed"
    assert record.error.startswith(f"{LABEL}: BigQuery did not answer within 1 s (setting gcp.timeout_s): ")
    assert record.error.endswith("; nothing was read")
    assert standin.sent("GET", RESULTS)  # the query ran; its results were what never came
    assert query("SELECT count(*) FROM cost") == [(0,)]
