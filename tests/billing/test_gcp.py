"""Google Cloud Billing export adapter: BigQuery NDJSON and Parquet extracts, flattened CSV dumps.

Expected values come from the raw files (tests/billing/reference.py), never from DuckDB. Every fixture's totals, row
count and reload are checked in test_conformance.py.
"""

from __future__ import annotations

import ast
import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.demo.generator import write_demo_exports
from tests.billing.reference import file_totals, gcp, ndjson_records, totals
from tests.conftest import FIXTURES
from tests.helpers import by_line, loaded_totals, read_csv_rows

GCP = FIXTURES / "billing" / "gcp"
STANDARD = GCP / "gcp_billing_export_v1_standard.jsonl"
DETAILED = GCP / "gcp_billing_export_resource_v1_detailed.jsonl"
PY_LITERALS = GCP / "gcp_flattened_python_literals.csv"
JSON_LISTS = GCP / "gcp_flattened_detailed_json_lists.csv"
PACIFIC = ZoneInfo("America/Los_Angeles")


def pacific_month_in_utc(month: str) -> datetime:
    start = datetime(int(month[:4]), int(month[4:]), 1, tzinfo=PACIFIC)
    return start.astimezone(UTC).replace(tzinfo=None)


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- NDJSON as bq extract writes it ---------------------------------------------------------------------------


def test_gzipped_ndjson_loads(load_billing, query, tmp_path):
    path = tmp_path / "gcp_billing_export_v1-000000000000.json.gz"
    path.write_bytes(gzip.compress(STANDARD.read_bytes()))
    [result] = load_billing(path)
    assert (result.status, result.format) == ("loaded", "gcp"), result.error
    assert loaded_totals(query, path) == file_totals(gcp, path)


def test_credits_are_summed_per_row_never_unnested(load_billing, query):
    load_billing(STANDARD)
    raw = ndjson_records(STANDARD)
    two_credits = next(i for i, r in enumerate(raw, 1) if len(r.get("credits", [])) == 2)
    billed, effective = by_line(query, "BilledCost, EffectiveCost", STANDARD)[two_credits]
    assert billed == effective == Decimal("25.513578") - Decimal("3.25") - Decimal("0.503578") == Decimal("21.76")
    assert query("SELECT count(*) FROM cost") == [(len(raw),)]  # one row per record, whatever the credits


def test_keys_left_out_of_the_first_record_are_still_read(load_billing, query):
    """Google omits null fields: the first records here have no project, location or resource keys."""
    assert "project" not in ndjson_records(STANDARD)[0] and "resource" not in ndjson_records(DETAILED)[0]
    load_billing(STANDARD, DETAILED)
    raw = ndjson_records(DETAILED)
    got = by_line(query, "ResourceId, ResourceName, SubAccountId", DETAILED)
    for line, record in enumerate(raw, 1):
        resource = record.get("resource", {})
        assert got[line] == (resource.get("global_name"), resource.get("name"), record["project"]["id"])
    assert by_line(query, "SubAccountId, SubAccountName", STANDARD)[2] == ("ml-training-0042", "ML Training")


def test_standard_export_mapping(load_billing, query):
    load_billing(STANDARD)
    got = by_line(query, "BillingAccountId, ChargeCategory, ChargeClass, ServiceName, ServiceCategory, SkuId, "
                         "ChargeDescription, RegionId, InvoiceIssuerName, ServiceProviderName, ChargePeriodStart, "
                         "ChargePeriodEnd, ConsumedQuantity, ConsumedUnit, PricingQuantity, PricingUnit, ListCost",
                  STANDARD)
    assert sorted(got) == [1, 2, 3, 4, 5, 6, 7]  # x_SourceLine is the record number
    assert {row[0] for row in got.values()} == {"01A2B3-C4D5E6-F7A8B9"}  # leading zero kept
    assert [got[line][1:3] for line in (1, 2, 4, 5)] == [
        ("Tax", None), ("Usage", None), ("Adjustment", "Correction"), ("Adjustment", None)]
    assert got[2][3:7] == ("Compute Engine", "Compute", "2E27-4F75-95CD", "N2 Instance Core running in Americas")
    assert got[2][7] == "us-central1" and got[3][7] == "US"  # region, else the multi-region location
    assert got[6][8] == "Example Vectors Ltd." and got[6][4] == "Other"  # agency-model Marketplace row
    assert {got[line][8] for line in (1, 2, 3, 7)} == {"Google Cloud"}
    assert {row[9] for row in got.values()} == {"Google Cloud"}
    assert got[2][10:12] == (datetime(2025, 6, 10, 14), datetime(2025, 6, 10, 15))
    assert got[2][12:16] == (Decimal(28800), "seconds", Decimal(8), "hour")
    assert got[3][16] == Decimal("6.25")  # no cost_at_list in the record: the cost


def test_timestamps_as_bigquery_writes_them(load_billing, query):
    """"2025-06-10 18:02:11.07 UTC": a fraction only when there is one, of any length up to microseconds."""
    load_billing(STANDARD)
    export_times = dict(query("SELECT x_SourceLine, x_ExportTime FROM cost_line"))
    for line, record in enumerate(ndjson_records(STANDARD), 1):
        text = record["export_time"]
        assert export_times[line] == datetime.fromisoformat(text.removesuffix(" UTC")), text


def test_invoice_month_is_the_pacific_month_in_utc(load_billing, query):
    load_billing(STANDARD)
    periods = by_line(query, "BillingPeriodStart, BillingPeriodEnd", STANDARD)
    for line, record in enumerate(ndjson_records(STANDARD), 1):
        month = record["invoice"]["month"]
        following = f"{int(month[:4]) + int(month[4:]) // 12}{int(month[4:]) % 12 + 1:02d}"
        assert periods[line] == (pacific_month_in_utc(month), pacific_month_in_utc(following))
    assert periods[7] == (datetime(2025, 3, 1, 8), datetime(2025, 4, 1, 7))  # PST start, PDT end
    assert periods[1] == (datetime(2025, 6, 1, 7), datetime(2025, 7, 1, 7))


def test_tags_combine_labels_system_labels_project_labels_and_tags(load_billing, query):
    load_billing(STANDARD)
    tags = {line: json.loads(value) if value else None
            for line, value in query("SELECT x_SourceLine, Tags FROM cost_line")}
    record = ndjson_records(STANDARD)[1]
    expected = {label["key"]: label["value"] for label in record["labels"] if label["value"]}
    expected |= {label["key"]: label["value"] for label in record["system_labels"]}
    expected |= {f"project:{label['key']}": label["value"] for label in record["project"]["labels"]}
    expected |= {f"{tag['namespace']}/{tag['key']}": tag["value"] for tag in record["tags"]}
    assert tags[2] == expected
    assert "owner" not in tags[2]  # empty label value dropped
    assert tags[3] is None and tags[7] == {"bucket-class": "standard", "project:env": "prod"}


def test_detailed_export_mapping(load_billing, query):
    [result] = load_billing(DETAILED)
    assert [(t.currency, t.billed) for t in result.totals] == [("EUR", Decimal("145.64652"))]
    got = by_line(query, "ResourceName, ServiceCategory, BillingPeriodStart, ListCost, Tags", DETAILED)
    assert got[2][:4] == ("trainer-a3-0001", "Compute", datetime(2025, 7, 1, 7), Decimal("99.1"))
    assert json.loads(got[2][4]) == {"workload": "llm-finetune", "project:cost-center": "cc-900",
                                     "compute.googleapis.com/machine_spec": "a3-highgpu-8g"}


# ---- Parquet as bq extract writes it --------------------------------------------------------------------------

_KV = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
_TS = pa.timestamp("us", tz="UTC")


def bigquery_parquet(path: Path, rows: list[dict], *, older_schema: bool = False) -> Path:
    """What a Parquet extract of the detailed table looks like: TIMESTAMP as UTC micros, FLOAT as double."""

    def ts(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)

    fields = [
        ("billing_account_id", pa.string(), lambda r: r["billing_account_id"]),
        ("service", pa.struct([("id", pa.string()), ("description", pa.string())]), lambda r: r["service"]),
        ("sku", pa.struct([("id", pa.string()), ("description", pa.string())]), lambda r: r["sku"]),
        ("usage_start_time", _TS, lambda r: ts(r["usage_start_time"])),
        ("usage_end_time", _TS, lambda r: ts(r["usage_end_time"])),
        ("project", pa.struct([("id", pa.string()), ("number", pa.string()), ("name", pa.string()),
                               ("labels", _KV)]),
         lambda r: {k: r["project"].get(k) for k in ("id", "number", "name", "labels")}),
        ("labels", _KV, lambda r: r["labels"]),
        ("system_labels", _KV, lambda r: r["system_labels"]),
        ("location", pa.struct([("location", pa.string()), ("country", pa.string()), ("region", pa.string()),
                                ("zone", pa.string())]), lambda r: r["location"]),
        ("export_time", _TS, lambda r: ts(r["export_time"])),
        ("cost", pa.float64(), lambda r: float(r["cost"])),
        ("currency", pa.string(), lambda r: r["currency"]),
        ("usage", pa.struct([("amount", pa.float64()), ("unit", pa.string()),
                             ("amount_in_pricing_units", pa.float64()), ("pricing_unit", pa.string())]),
         lambda r: {k: float(v) if isinstance(v, Decimal) else v for k, v in r["usage"].items()}),
        ("credits", pa.list_(pa.struct([("name", pa.string()), ("amount", pa.float64()), ("full_name", pa.string()),
                                        ("id", pa.string()), ("type", pa.string())])),
         lambda r: [{**c, "amount": float(c["amount"])} for c in r["credits"]]),
        ("invoice", pa.struct([("month", pa.string()), ("publisher_type", pa.string())]), lambda r: r["invoice"]),
        ("cost_type", pa.string(), lambda r: r["cost_type"]),
    ]
    if not older_schema:
        fields += [
            ("cost_at_list", pa.float64(), lambda r: float(r["cost_at_list"])),
            ("resource", pa.struct([("name", pa.string()), ("global_name", pa.string())]), lambda r: r.get("resource")),
        ]
    table = pa.table({name: pa.array([get(r) for r in rows], type=kind) for name, kind, get in fields})
    pq.write_table(table, path)
    return path


def test_parquet_extract_loads_like_the_json_one(load_billing, query, tmp_path):
    raw = ndjson_records(DETAILED)
    path = bigquery_parquet(tmp_path / "gcp_billing_export_resource_v1.parquet", raw)
    [result] = load_billing(path)
    assert (result.status, result.format, result.rows) == ("loaded", "gcp", len(raw)), result.error
    assert loaded_totals(query, path) == totals(raw, gcp)
    got = by_line(query, "ChargePeriodStart, x_ExportTime, ResourceId, BillingPeriodStart", path, "cost_line")
    assert got[2] == (datetime(2025, 7, 2, 10), datetime(2025, 7, 3, 4), raw[1]["resource"]["global_name"],
                      datetime(2025, 7, 1, 7))
    assert got[1][2] is None


def test_parquet_with_an_older_schema_has_no_list_cost_or_resource(load_billing, query, tmp_path):
    raw = ndjson_records(DETAILED)
    path = bigquery_parquet(tmp_path / "gcp_billing_export_v1_2020.parquet", raw, older_schema=True)
    [result] = load_billing(path)
    assert result.status == "loaded", result.error
    assert query("SELECT sum(ListCost) = sum(ContractedCost), count(ResourceId) FROM cost") == [(True, 0)]


def test_parquet_without_a_required_field_is_rejected(load_billing, tmp_path):
    path = tmp_path / "no_service_description.parquet"
    pq.write_table(pa.table({
        "billing_account_id": ["01A2B3-C4D5E6-F7A8B9"],
        "service": pa.array([{"id": "6F81-5844-456A"}], type=pa.struct([("id", pa.string())])),
        "usage_start_time": pa.array([datetime(2025, 6, 1, tzinfo=UTC)], type=_TS),
        "usage_end_time": pa.array([datetime(2025, 6, 1, 1, tzinfo=UTC)], type=_TS),
        "cost": [1.0], "currency": ["USD"],
        "invoice": pa.array([{"month": "202506"}], type=pa.struct([("month", pa.string())])),
    }), path)
    [result] = load_billing(path)
    assert result.status == "failed"
    assert 'line 1, column "service.description": missing, but every row needs a value' in result.error


# ---- flattened CSV -------------------------------------------------------------------------------------------


def test_flattened_csv_with_python_literal_credits(load_billing, query):
    [result] = load_billing(PY_LITERALS)
    assert (result.status, result.format) == ("loaded", "gcp"), result.error
    rows = read_csv_rows(PY_LITERALS)
    tags = dict(query("SELECT x_SourceLine, Tags FROM cost_line"))
    for line, row in enumerate(rows, 2):
        want = {label["key"]: label["value"] for label in ast.literal_eval(row["labels"]) if label["value"]}
        want |= {label["key"]: label["value"] for label in ast.literal_eval(row["system_labels"])}
        want |= {f"project:{label['key']}": label["value"] for label in ast.literal_eval(row["project.labels"])}
        assert (json.loads(tags[line]) if tags[line] else {}) == want
    assert query("SELECT DISTINCT BillingPeriodStart, BillingPeriodEnd FROM cost") == [
        (datetime(2020, 11, 1, 7), datetime(2020, 12, 1, 8))]  # November: PDT start, PST end


def test_flattened_detailed_csv_with_json_lists(load_billing, query):
    [result] = load_billing(JSON_LISTS)
    assert result.status == "loaded", result.error
    rows = read_csv_rows(JSON_LISTS)
    got = by_line(query, "ResourceId, ResourceName, ChargePeriodStart, x_ExportTime", JSON_LISTS, "cost_line")
    assert got[2] == (rows[0]["resource.global_name"], "instance-1", datetime(2022, 8, 1, 3),
                      datetime(2022, 8, 2, 1, 11, 12, 66000))
    assert got[4][:2] == (None, None)


def test_flattened_csv_with_underscore_names(load_billing, query, tmp_path):
    header = ("billing_account_id,service_id,service_description,sku_id,sku_description,usage_start_time,"
              "usage_end_time,project_id,project_name,cost,currency,credits,invoice_month,cost_type")
    path = write_lines(tmp_path / "flat.csv", header,
                       '012345-6789AB-CDEF01,6F81,Compute Engine,2E27,N2 Core,2025-06-10 14:00:00 UTC,'
                       '2025-06-10 15:00:00 UTC,p-1,P one,2.5,USD,"[{""name"": ""x"", ""amount"": -0.5}]",'
                       '202506,regular')
    [result] = load_billing(path)
    assert result.status == "loaded", result.error
    assert query("SELECT BilledCost, ServiceName, SubAccountName, ChargePeriodStart FROM cost") == [
        (Decimal("2.0"), "Compute Engine", "P one", datetime(2025, 6, 10, 14))]


# ---- bad input ------------------------------------------------------------------------------------------------

GOOD = json.dumps({"billing_account_id": "01A2B3-C4D5E6-F7A8B9", "service": {"description": "BigQuery"},
                   "usage_start_time": "2025-06-10 00:00:00 UTC", "usage_end_time": "2025-06-10 01:00:00 UTC",
                   "export_time": "2025-06-11 00:00:00 UTC", "cost": 1.25, "currency": "USD",
                   "credits": [], "invoice": {"month": "202506"}, "cost_type": "regular"})


def good(**changes) -> str:
    record = json.loads(GOOD)
    for key, value in changes.items():
        if value is None:
            record.pop(key)
        else:
            record[key] = value
    return json.dumps(record)


FLAT_HEADER = ("billing_account_id,service.description,usage_start_time,usage_end_time,cost,currency,credits,"
               "labels,invoice.month,cost_type")


def flat(credits: str = "[]", labels: str = "[]") -> str:
    return f"A1,BigQuery,2025-06-10 00:00:00+00:00,2025-06-10 01:00:00+00:00,1.0,USD,{credits},{labels},202506,regular"


BAD_INPUTS = {
    "credits_literal_unclosed": (
        "csv", [FLAT_HEADER, flat(), flat(credits="\"[{'name': 'x', 'amount': -1.0]\"")],
        'line 3, column "credits": "[{\'name\': \'x\', \'amount\': -1.0]" is not a list of objects',
    ),
    "credits_stray_quote": (
        "csv", [FLAT_HEADER, flat(credits="\"[{'amount': -1.0'}]\"")],
        'line 2, column "credits": "[{\'amount\': -1.0\'}]" is not a list of objects',
    ),
    "credits_not_objects": (
        "csv", [FLAT_HEADER, flat(credits="\"[1.5, 2]\"")],
        'line 2, column "credits": "[1.5, 2]" is not a list of objects',
    ),
    "credit_amount_not_a_number": (
        "csv", [FLAT_HEADER, flat(credits="\"[{'name': 'x', 'amount': 'abc'}]\"")],
        'line 2, column "credits.amount": "abc" is not a number',
    ),
    "labels_not_a_list": (
        "csv", [FLAT_HEADER, flat(labels="\"{'key': 'team'}\"")],
        'line 2, column "labels": "{\'key\': \'team\'}" is not a list of objects',
    ),
    "csv_missing_column": (
        "csv", [FLAT_HEADER.replace(",currency", ""), flat().replace(",USD", "")],
        "missing required column(s) for the gcp format: currency",
    ),
    "invoice_month": (
        "json", [GOOD, good(invoice={"month": "2025-06"})],
        'line 2, column "invoice.month": "2025-06" is not a month (expected YYYYMM such as 202506)',
    ),
    "timestamp": (
        "json", [good(usage_start_time="yesterday")],
        'line 1, column "usage_start_time": "yesterday" is not a date/time',
    ),
    "nested_number": (
        "json", [good(usage={"amount": "lots"})],
        'line 1, column "usage.amount": "lots" is not a number',
    ),
    "missing_required_key": (
        "json", [good(currency=None)],
        "missing required column(s) for the gcp format: currency",
    ),
    "missing_value_in_a_later_record": (
        "json", [GOOD, good(billing_account_id=None)],
        'line 2, column "billing_account_id": empty, but every row needs a value',
    ),
    "unknown_cost_type": (
        "json", [good(cost_type="surcharge")],
        'line 1: charge type "surcharge" is not in sql/seed/charge_category_map.csv for Google Cloud',
    ),
    "malformed_json": (
        "json", [GOOD, GOOD.replace(', "currency"', ',, "currency"')],
        "Malformed JSON",
    ),
    "struct_expected": (
        "json", [GOOD, good(service="BigQuery")],
        "line 2",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_naming_line_and_column(case, load_billing, query, tmp_path):
    kind, lines, expected = BAD_INPUTS[case]
    bad = write_lines(tmp_path / f"bad_{case}.{'csv' if kind == 'csv' else 'jsonl'}", *lines)
    [result] = load_billing(bad)
    assert result.status == "failed"
    assert result.error.startswith(str(bad)), result.error
    assert expected in result.error, result.error
    assert query("SELECT count(*) FROM cost") == [(0,)]


# ---- replacement by export time -------------------------------------------------------------------------------


def test_a_newer_export_replaces_and_an_older_one_loaded_later_is_superseded(load_billing, query, tmp_path):
    def export(name: str, exported: str, *costs: float) -> Path:
        return write_lines(tmp_path / name, *(
            good(cost=cost, export_time=exported, usage_start_time=f"2025-06-{day} 00:00:00 UTC",
                 usage_end_time=f"2025-06-{day} 01:00:00 UTC") for day, cost in enumerate(costs, 10)))

    mid_month = export("june-10.jsonl", "2025-06-10 06:00:00 UTC", 10.0)
    month_end = export("june-30.jsonl", "2025-07-02 06:00:00 UTC", 11.5, 3.0)
    stale = export("june-20.jsonl", "2025-06-20 06:00:00 UTC", 10.0, 1.0)
    first, second = load_billing(mid_month, month_end)
    assert (first.status, second.status) == ("loaded", "loaded")
    assert query("SELECT sum(BilledCost), count(*) FROM cost") == [(Decimal("14.5"), 2)]
    [late] = load_billing(stale)
    assert late.status == "superseded" and late.rows == 0
    assert "a newer export is already loaded" in late.message
    assert query("SELECT DISTINCT x_SourceFile FROM cost") == [(str(month_end.resolve()),)]
    assert query("SELECT sum(BilledCost) FROM cost") == [(Decimal("14.5"),)]
    assert query("SELECT status FROM load_log ORDER BY load_id") == [("loaded",), ("loaded",), ("superseded",)]


# ---- the demo generator's Google Cloud files ------------------------------------------------------------------


def test_demo_google_cloud_exports_load_and_reconcile(load_billing, query, tmp_path):
    files = write_demo_exports(tmp_path / "demo", rows=400, providers=("Google Cloud",), end=date(2025, 12, 31))
    results = load_billing(*files)
    assert {r.status for r in results} == {"loaded"}, [r.error for r in results if r.error]
    expected = file_totals(gcp, *files)
    assert loaded_totals(query) == expected
    assert query("SELECT count(*) FROM cost WHERE Tags->>'spendscope-demo' = 'synthetic'") == [
        (sum(total.rows for total in expected.values()),)]
    assert query("SELECT count(*) FROM cost WHERE ServiceCategory = 'Other'") == [(0,)]


def test_demo_json_has_no_null_fields(tmp_path):
    """BigQuery leaves null fields out of JSON rows; the demo writer must too."""
    [path] = write_demo_exports(tmp_path / "demo", rows=100, providers=("Google Cloud",), monthly_files=False,
                                end=date(2025, 12, 31))

    def nulls(value) -> bool:
        if isinstance(value, dict):
            return any(v is None or nulls(v) for v in value.values())
        if isinstance(value, list):
            return any(nulls(v) for v in value)
        return False

    assert not any(nulls(record) for record in ndjson_records(path))
