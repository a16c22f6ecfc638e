"""Oracle OCI cost-report adapter (OCI's own CSV/CSV.GZ format).

Expected values come from the raw files (tests/billing/reference.py), never from DuckDB. Every fixture's totals, row
count and reload are checked in test_conformance.py.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from etl.billing.base import LoadOptions
from etl.demo.generator import write_demo_exports
from tests.billing.reference import file_totals, oci, totals
from tests.conftest import FIXTURES
from tests.helpers import by_line, dec, loaded_totals, read_csv_rows

OCI = FIXTURES / "billing" / "oci"
CURRENT = OCI / "reports_cost-csv_0001000000123456.csv"  # newer layout: skuUnitDescription, attributedCost
OLDER = OCI / "reports_cost-csv_0001000000120001_older.csv"  # billingUnitReadable only, doc casing


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_every_measure_is_my_cost_on_every_row(load_billing, query):
    load_billing(CURRENT, OLDER)
    assert query("SELECT count(*) FROM cost WHERE BilledCost <> EffectiveCost OR BilledCost <> ListCost "
                 "OR BilledCost <> ContractedCost") == [(0,)]


def test_cost_report_mapping(load_billing, query):
    load_billing(CURRENT)
    raw = read_csv_rows(CURRENT)
    got = by_line(query, "BillingAccountId, SubAccountId, SubAccountName, ServiceName, ServiceCategory, SkuId, "
                         "ChargeDescription, RegionId, ResourceId, ConsumedQuantity, ConsumedUnit, PricingQuantity, "
                         "PricingUnit, ChargeCategory, ChargeFrequency, ServiceProviderName, InvoiceIssuerName, "
                         "BillingCurrency")
    for line, row in enumerate(raw, 2):  # header is line 1
        assert got[line][:9] == (row["lineItem/tenantId"], row["product/compartmentId"],
                                 row["product/compartmentName"], row["product/service"], got[line][4],
                                 row["cost/productSku"], row["product/Description"], row["product/region"],
                                 row["product/resourceId"])
        assert got[line][9:13] == (dec(row["usage/billedQuantity"]), row["cost/skuUnitDescription"],
                                   dec(row["usage/billedQuantity"]), row["cost/skuUnitDescription"])
        assert got[line][13:] == ("Usage", "Usage-Based", "Oracle", "Oracle", row["cost/currencyCode"])
    assert [got[line][4] for line in (2, 3, 4, 6, 7)] == [
        "Compute", "Storage", "Networking", "Management and Governance", "Storage"]


def test_unit_falls_back_to_billing_unit_readable(load_billing, query):
    load_billing(OLDER)
    raw = read_csv_rows(OLDER)
    got = by_line(query, "ConsumedUnit, BillingAccountId, ChargeDescription")
    assert [got[line] for line in range(2, 2 + len(raw))] == [
        (row["cost/billingUnitReadable"], row["lineItem/TenantId"], row["product/description"]) for row in raw]


def test_interval_timestamps_with_and_without_seconds(load_billing, query):
    load_billing(CURRENT)
    raw = read_csv_rows(CURRENT)
    assert raw[0]["lineItem/intervalUsageStart"].endswith("T14:00Z")  # no seconds
    assert raw[0]["lineItem/intervalUsageEnd"].endswith("T15:00:00Z")
    got = by_line(query, "ChargePeriodStart, ChargePeriodEnd")
    for line, row in enumerate(raw, 2):
        start = datetime.strptime(row["lineItem/intervalUsageStart"], "%Y-%m-%dT%H:%MZ")
        end = datetime.strptime(row["lineItem/intervalUsageEnd"], "%Y-%m-%dT%H:%M:%SZ")
        assert got[line] == (start, end)


def test_billing_period_is_the_utc_month_of_the_usage_start(load_billing, query):
    load_billing(CURRENT)
    got = by_line(query, "ChargePeriodStart, BillingPeriodStart, BillingPeriodEnd")
    for start, period_start, period_end in got.values():
        assert period_start == datetime(start.year, start.month, 1)
        assert period_end == datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    assert got[6][1:] == (datetime(2025, 6, 1), datetime(2025, 7, 1))  # 23:00-24:00 on June 30
    assert got[7][1:] == (datetime(2025, 7, 1), datetime(2025, 8, 1))


def test_correction_rows_are_kept_as_corrections(load_billing, query):
    load_billing(CURRENT)
    raw = read_csv_rows(CURRENT)
    corrections = {line for line, row in enumerate(raw, 2) if row["lineItem/isCorrection"] == "true"}
    assert corrections == {5}
    got = by_line(query, "ChargeClass, BilledCost")
    assert {line for line, (charge_class, _) in got.items() if charge_class == "Correction"} == corrections
    assert got[5][1] == dec(raw[3]["cost/myCost"]) == Decimal("-8")


def test_tags_keep_the_original_key_names(load_billing, query):
    load_billing(CURRENT, OLDER)
    for path in (CURRENT, OLDER):
        tags = by_line(query, "Tags", path)
        for line, row in enumerate(read_csv_rows(path), 2):
            expected = {key[len("tags/"):]: value for key, value in row.items() if key.startswith("tags/") and value}
            assert (json.loads(tags[line][0]) if tags[line][0] else {}) == expected
    current = by_line(query, "Tags", CURRENT)
    assert json.loads(current[2][0])["DevRel\\ml-lab-1a2b.release"] == "2.1"
    assert json.loads(current[7][0])["Finance.CostCenter"] == 'team "alpha", eu'
    assert current[4] == (None,)


def test_ids_stay_text(load_billing, query, tmp_path):
    text = CURRENT.read_bytes().decode("utf-8").replace(
        "ocid1.tenancy.oc1..aaaaaaaa7demoexampletenancy0000000000000000000000000000000", "000123")
    path = write(tmp_path / "reports_cost-csv_0001000000999999.csv", text)
    load_billing(path)
    assert query("SELECT DISTINCT BillingAccountId, typeof(BillingAccountId) FROM cost") == [("000123", "VARCHAR")]
    assert query("SELECT SkuId FROM cost WHERE x_SourceLine = 2") == [("B98415",)]


def test_gzipped_report_loads(load_billing, query, tmp_path):
    path = tmp_path / "reports_cost-csv_0001000000120001-00001.csv.gz"
    path.write_bytes(gzip.compress(OLDER.read_bytes()))
    [result] = load_billing(path)
    assert (result.status, result.format, result.rows) == ("loaded", "oci", 3), result.error
    assert loaded_totals(query) == file_totals(oci, path)


def test_reports_of_one_month_all_stay_loaded_and_reloading_is_idempotent(load_billing, query, tmp_path):
    """OCI reports are incremental: each file adds rows to the month, so the replace unit is the file."""
    first, second = load_billing(CURRENT, OLDER)
    assert (first.status, second.status) == ("loaded", "loaded")
    june = "BillingPeriodStart = TIMESTAMP '2025-06-01'"
    assert query(f"SELECT count(DISTINCT x_SourceFile) FROM cost WHERE {june}") == [(2,)]
    assert loaded_totals(query) == file_totals(oci, CURRENT, OLDER)
    before = query("SELECT * FROM cost ORDER BY x_SourceFile, x_SourceLine")

    [again] = load_billing(CURRENT)
    assert again.status == "unchanged"
    assert query("SELECT * FROM cost ORDER BY x_SourceFile, x_SourceLine") == before

    # The same report re-delivered with one row fewer (same file name, other folder) replaces only its own rows.
    lines = CURRENT.read_bytes().decode("utf-8").split("\r\n")
    redelivered = write(tmp_path / "redelivery" / CURRENT.name, "\r\n".join(lines[:3] + lines[4:]))
    [replaced] = load_billing(redelivered)
    assert (replaced.status, replaced.rows) == ("loaded", 5)
    assert loaded_totals(query) == file_totals(oci, redelivered, OLDER)
    assert query("SELECT count(*) FROM cost WHERE x_SourceFile = ?", [str(CURRENT.resolve())]) == [(0,)]


def test_replace_period_option_makes_the_last_report_own_the_month(load_billing, query, tmp_path):
    load_billing(CURRENT, OLDER, options=LoadOptions(replace="period"))
    # OLDER (June only) replaced CURRENT's June rows; CURRENT's July row stays.
    july = [row for row in read_csv_rows(CURRENT) if row["lineItem/intervalUsageStart"].startswith("2025-07")]
    assert loaded_totals(query) == totals(read_csv_rows(OLDER) + july, oci)


def test_the_demo_oracle_reports_load_and_reconcile(load_billing, query, tmp_path):
    files = write_demo_exports(tmp_path / "demo", rows=300, providers=("Oracle",), end=date(2025, 12, 31))
    results = load_billing(*files)
    assert {r.status for r in results} == {"loaded"}, [r.error for r in results if r.error]
    assert loaded_totals(query) == file_totals(oci, *files)
    rows = sum(len(read_csv_rows(f)) for f in files)
    assert query("SELECT count(*) FROM cost WHERE Tags->>'spendscope-demo' = 'synthetic'") == [(rows,)]
    assert query("SELECT count(*) FROM cost WHERE ServiceCategory = 'Other'") == [(0,)]


HEADER = CURRENT.read_bytes().decode("utf-8").split("\r\n")[0]
FIRST = CURRENT.read_bytes().decode("utf-8").split("\r\n")[1]


def replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


def index_of(name: str) -> int:
    return HEADER.split(",").index(name)


BAD_INPUTS = {
    "empty_cost": ([HEADER, replace_field(FIRST, index_of("cost/myCost"), "")],
                   'line 2, column "cost/myCost": empty, but every row needs a value'),
    "correction_flag": ([HEADER, replace_field(FIRST, index_of("lineItem/isCorrection"), "maybe")],
                        'line 2, column "lineItem/isCorrection": "maybe" is not true or false'),
    "interval": ([HEADER, replace_field(FIRST, index_of("lineItem/intervalUsageStart"), "2025-06-10 2pm")],
                 'line 2, column "lineItem/intervalUsageStart": "2025-06-10 2pm" is not a date/time'),
    "currency": ([HEADER, replace_field(FIRST, index_of("cost/currencyCode"), "XYZ")],
                 'line 2, column "BillingCurrency": "XYZ" is not an ISO 4217 currency code'),
    "missing_tenant": ([HEADER.replace("lineItem/tenantId", "lineItem/tenant"), FIRST],
                       "missing required column(s) for the oci format: lineitem/tenantid"),
    "ragged": ([HEADER, FIRST + ",extra"], "line 2: expected 31 fields as in the header, found 32 (ragged row)"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_naming_line_and_column(case, load_billing, query, tmp_path):
    lines, expected = BAD_INPUTS[case]
    bad = write(tmp_path / f"reports_cost-csv_bad_{case}.csv", "\r\n".join(lines) + "\r\n")
    good = shutil.copy(OLDER, tmp_path / OLDER.name)
    results = load_billing(bad, good)
    assert [r.status for r in results] == ["failed", "loaded"]
    assert results[0].error.startswith(str(bad)) and expected in results[0].error, results[0].error
    assert loaded_totals(query) == file_totals(oci, OLDER)
