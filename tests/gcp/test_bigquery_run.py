"""`python -m etl run` and `billing load --bigquery` with a BigQuery billing source (the stand-in as BigQuery)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from etl import run as run_job
from etl.config import load_config
from etl.context import Context
from tests.conftest import run_process
from tests.gcp.bigquery_standin import JOBS, QueryResult, install, queries, row
from tests.gcp.standin import StandIn
from tests.helpers import table_rows
from tests.test_run import FOCUS, NO_MARKETS, raw_billed, write_config

TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_012345_6789AB_CDEF01"


@pytest.fixture
def standin() -> StandIn:
    with StandIn() as server:
        yield server


def gcp_settings(standin: StandIn) -> str:
    return f'{NO_MARKETS}\n[gcp]\ncredentials = "anonymous"\nbigquery_endpoint = "{standin.endpoint}"\n'


def test_run_loads_a_bigquery_source_as_a_real_process(tmp_path, standin, db_path, query):
    install(standin, QueryResult([row(usage_date=datetime(2026, 11, day).date(), invoice_month="202611",
                                      cost=Decimal("2.50"), credit_free_tier=Decimal("-0.5")) for day in (1, 2, 3)]))
    config = write_config(tmp_path, f'name = "gcp live"\nbigquery_table = "{TABLE}"\nbackfill_months = 2\n'
                                    'max_bytes_billed = 1000000000\nlabels = true',
                          f'path = "{FOCUS}"', extra=gcp_settings(standin))
    result = run_process(["--config", str(config), "--db", str(db_path), "run"], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    loads = {r["source"]: r for r in table_rows(result.stdout, "source")}
    assert loads[f"bigquery:{TABLE}"]["status"] == "loaded" and loads[f"bigquery:{TABLE}"]["rows"] == "3"
    assert loads[f"bigquery:{TABLE}"]["covers"] == "USD 6.00"
    [dry, real] = queries(standin)
    assert dry["dryRun"] and real["query"]["maximumBytesBilled"] == "1000000000"
    assert "TO_JSON_STRING(labels) AS labels_json" in real["query"]["query"]
    assert query("SELECT sum(BilledCost) FROM cost WHERE x_SourceFormat = ?", [f"bigquery:{TABLE}"]) == [
        (Decimal("6.00"),)]
    assert dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost WHERE x_SourceFormat <> ? GROUP BY 1",
                      [f"bigquery:{TABLE}"])) == raw_billed(FOCUS)
    assert "anonymous" not in result.stderr  # credentials never logged (here: the setting's value)


def test_a_failing_bigquery_source_fails_the_step_and_the_files_still_load(tmp_path, standin, db_path, query):
    install(standin, QueryResult([row()]))
    standin.fail("POST", JOBS, 403, "Access Denied: Table billing-admin:billing_export.gcp_billing_export_resource_v1_"
                 "012345_6789AB_CDEF01: User does not have permission", reason="accessDenied", times=9)
    config = load_config(write_config(tmp_path, f'bigquery_table = "{TABLE}"', f'path = "{FOCUS}"',
                                      extra=f'db = "{db_path}"\n{gcp_settings(standin)}'))
    report = run_job.run(config, Context(config).warehouse, now=datetime(2025, 6, 20, tzinfo=UTC))
    billing = report.steps[0]
    assert billing.status == "failed" and billing.counts == "2 sources: 1 failed, 1 loaded; 5 rows written"
    failed = next(r for r in billing.records if not r.ok)
    assert "permission denied (Access Denied: Table billing-admin:billing_export" in failed.error
    assert dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1")) == raw_billed(FOCUS)
    assert query("SELECT source, status FROM load_log WHERE kind = 'billing' ORDER BY load_id") == [
        (f"bigquery:{TABLE}", "failed"), (str(FOCUS), "loaded")]


@pytest.mark.parametrize(("body", "message"), [
    ('bigquery_table = "proj.ds.some_table"', "is not project.dataset.table with a standard"),
    (f'bigquery_table = "{TABLE}"\nformat = "gcp"', "key(s) format do not apply to a source with bigquery_table"),
    ('path = "x.csv"\nbackfill_months = 3', "key(s) backfill_months do not apply to a source with path"),
    (f'bigquery_table = "{TABLE}"\nbackfill_months = 0', "backfill_months must be at least 1, got 0"),
])
def test_a_bad_bigquery_source_is_a_settings_error_naming_the_source(tmp_path, cli, body, message):
    config = write_config(tmp_path, 'path = "a.csv"', body)
    result = cli("--config", str(config), "run")
    assert result.code == 2
    assert "setting 'billing.sources'[1]: " in result.err and message in result.err


def test_billing_load_bigquery_loads_one_table(tmp_path, standin, cli, query):
    install(standin, QueryResult([row(), row(sku_id="CP-T4", cost=Decimal("1.25"))]))
    config = tmp_path / "gcp.toml"
    config.write_text(gcp_settings(standin))
    result = cli("--config", str(config), "billing", "load", "--bigquery", TABLE, "--backfill-months", "1",
                 "--max-bytes-billed", "9000000")
    assert result.code == 0, result.out + result.err
    assert [(r["source"], r["rows"], r["covers"]) for r in table_rows(result.out, "source")] == [
        (f"bigquery:{TABLE}", "2", "USD 101.25")]
    assert queries(standin)[1]["query"]["maximumBytesBilled"] == "9000000"
    assert query("SELECT count(*) FROM cost") == [(2,)]


def test_billing_load_needs_paths_or_a_table_not_both(tmp_path, cli):
    for args in ((), ("a.csv", "--bigquery", TABLE)):
        result = cli("billing", "load", *args)
        assert result.code == 2 and "give either PATH... or --bigquery TABLE" in result.err
