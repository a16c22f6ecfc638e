"""Azure cost details adapter on the project's own Azure files (real column layouts, invented values).

Expected values come from the raw files (tests/billing/reference.py), never from DuckDB or project code. Every
fixture's totals, row count and reload are checked in test_conformance.py.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.billing import registry
from etl.billing.base import LoadOptions
from etl.billing.sources import expand_paths
from tests.billing.reference import azure, azure_cell, file_totals, totals
from tests.conftest import FIXTURES
from tests.helpers import by_line, by_measure, loaded_totals, read_csv_rows

AZURE = FIXTURES / "billing" / "azure"
EA_2024 = AZURE / "ea_2024-08-01_eur.csv"
ACTUAL = AZURE / "pair" / "ea_actualcost_202407.csv"
AMORTIZED = AZURE / "pair" / "ea_amortizedcost_202407.csv"
PARTITIONED = AZURE / "partitioned"
EXPORT_RUN = "ea-daily/20240601-20240630/202407010615/6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"


# --- the current EA schema ----------------------------------------------------------------------------------

def test_ea_values_are_mapped_to_focus(load_billing, query):
    load_billing(EA_2024)
    rows = by_line(query, "BillingAccountId, BillingAccountName, SubAccountId, SubAccountName, BillingCurrency, "
                          "BillingPeriodStart, BillingPeriodEnd, ChargePeriodStart, ChargePeriodEnd, ChargeCategory, "
                          "ChargeClass, ChargeFrequency, ServiceProviderName, InvoiceIssuerName, ServiceName, "
                          "ServiceCategory, PricingCategory, CommitmentDiscountId, CommitmentDiscountType, RegionId, "
                          "RegionName, SkuId, ChargeDescription, ResourceId, ResourceName, ConsumedQuantity, "
                          "ConsumedUnit, PricingQuantity, PricingUnit, Tags, ContractedCost, ListCost")
    raw = {line: row for line, row in enumerate(read_csv_rows(EA_2024), start=2)}

    vm = rows[2]
    assert vm[:5] == ("07654321", "Contoso Europe SE", raw[2]["SubscriptionId"], "ml-training", "EUR")
    assert vm[5:9] == (datetime(2024, 7, 1), datetime(2024, 8, 1), datetime(2024, 7, 3), datetime(2024, 7, 4))
    assert vm[9:16] == ("Usage", None, "Usage-Based", "Microsoft", "Microsoft", "Virtual Machines", "Compute")
    assert vm[16:19] == ("Standard", None, None)
    assert vm[19:25] == ("westeurope", "EU West", raw[2]["MeterId"], "ND96isr H100 v5", raw[2]["ResourceId"], "gpu-01")
    assert vm[25:29] == (Decimal(24), "1 Hour", Decimal(24), "1 Hour")
    tags = json.loads(vm[29])
    assert tags == json.loads("{" + raw[2]["Tags"] + "}") == {"team": "training", "env": "prod", "cost-center": "0042"}
    assert "VMName" in raw[2]["AdditionalInfo"] and "VMName" not in vm[29]  # AdditionalInfo stays out of Tags
    assert vm[30:] == (Decimal("2049.6"), Decimal("24") * Decimal("98.32"))

    assert rows[3][16] == "Dynamic"  # PricingModel Spot
    assert rows[5][25] == Decimal("0.0129") and rows[5][26] == "10K"

    purchase = rows[6]  # one-year reservation bought upfront; no meter category on the row
    assert purchase[9:12] == ("Purchase", None, "One-Time")
    assert purchase[14:16] == ("Microsoft.Capacity", "Management and Governance")  # ConsumedService fallback
    assert purchase[16:19] == ("Committed", raw[6]["benefitId"], "Reservation")
    assert purchase[19] is None and purchase[21] == "AAF-90210"  # no location; SkuId falls back to PartNumber
    assert purchase[22] == raw[6]["ProductName"]
    assert purchase[30:] == (Decimal(1500), Decimal(1500))  # PayGPrice 0 on a purchase: list = contracted

    refund = rows[7]
    assert refund[9:11] == ("Purchase", "Correction")
    assert refund[30:] == (Decimal("-170.8"), -(Decimal(2) * Decimal("98.32")))  # products take the refund's sign

    marketplace = rows[8]  # neither MeterCategory nor ConsumedService: the product names the service
    assert marketplace[14:16] == ("Contoso Vector DB - Pro plan", "Other")
    assert marketplace[11] == "Recurring"


@pytest.mark.parametrize("name", [
    "ea_2020-01-01_usd.csv",   # no benefitId/benefitName/CostAllocationRuleName
    "ea_2021-10-01_gbp.csv",   # cost column first, other column order
    "c360_detail_202309.csv",  # Cost / BillingCurrency / Product, BOM
])
def test_older_ea_versions_and_the_c360_dialect(name, load_billing, query):
    path = AZURE / name
    [result] = load_billing(path)
    raw = read_csv_rows(path)
    assert result.status == "loaded", result.error
    periods = query("SELECT DISTINCT BillingPeriodStart, BillingPeriodEnd FROM cost")
    start = datetime.strptime(raw[0]["BillingPeriodStartDate"], "%m/%d/%Y")
    assert periods == [(start, datetime(start.year + start.month // 12, start.month % 12 + 1, 1))]
    commitments = dict(query("SELECT x_SourceLine, CommitmentDiscountType FROM cost"))
    for line, row in enumerate(raw, start=2):
        expected = ("Savings Plan" if "Microsoft.BillingBenefits" in (azure_cell(row, "benefitId") or "")
                    else "Reservation" if azure_cell(row, "ReservationId") else None)
        assert commitments[line] == expected


# --- MCA and MPA camelCase ----------------------------------------------------------------------------------

def test_mca_camel_case_with_pricing_and_billing_currencies(load_billing, query):
    path = AZURE / "mca_camel_202408.csv"
    [result] = load_billing(path)
    raw = read_csv_rows(path)
    assert result.status == "loaded", result.error
    rows = query("SELECT BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, InvoiceIssuerName, "
                 "ListCost, ContractedCost, RegionId, RegionName, ResourceId, Tags FROM cost ORDER BY x_SourceLine")
    first, second = rows
    assert first[:4] == (raw[0]["billingAccountId"], "EUR", datetime(2024, 8, 1), datetime(2024, 9, 1))
    assert first[4] == "Microsoft" and second[4] == "Fabrikam Cloud Reseller"
    assert first[5] == Decimal(raw[0]["paygCostInBillingCurrency"])  # taken as exported
    # unit prices are in the pricing currency (USD): x quantity x exchangeRatePricingToBilling
    assert first[6] == Decimal(raw[0]["unitPrice"]) * Decimal(raw[0]["quantity"]) * Decimal("0.9132")
    assert second[6] == Decimal(raw[1]["costInBillingCurrency"])
    # no payg cost on that row: PayGPrice x quantity x rate
    assert second[5] == Decimal(raw[1]["PayGPrice"]) * Decimal(raw[1]["quantity"]) * Decimal("0.9132")
    assert first[7:10] == ("westeurope", "EU West", raw[0]["ResourceId"])
    assert json.loads(first[10]) == {"project": "llm", "owner": "ml-team"}
    assert json.loads(second[10]) == {"project": "llm"}  # braces added


def test_mpa_partner_export_without_billing_account_uses_the_subscription(load_billing, query):
    path = AZURE / "mpa_partner_202102.csv"
    [result] = load_billing(path)
    [raw] = read_csv_rows(path)
    assert result.status == "loaded", result.error
    [row] = query("SELECT BillingAccountId, BillingAccountName, SubAccountId, BillingCurrency, BilledCost, ListCost, "
                  "BillingPeriodEnd, ChargePeriodStart FROM cost")
    assert row[:4] == (raw["SubscriptionId"], "wwi-prod", raw["SubscriptionId"], "CAD")
    assert row[4] == Decimal(raw["costInBillingCurrency"])
    assert row[5] == Decimal(raw["PayGPrice"]) * Decimal(raw["quantity"]) * Decimal(raw["exchangeRatePricingToBilling"])
    assert row[6:] == (datetime(2021, 3, 1), datetime(2021, 2, 2))


def test_mca_2019_10_01_pascal_case_names(load_billing, query):
    path = AZURE / "mca_2019-10-01_pascal.csv"
    [result] = load_billing(path)
    [raw] = read_csv_rows(path)
    assert result.status == "loaded", result.error
    [row] = query("SELECT BillingAccountId, SubAccountId, BillingCurrency, ResourceId, ServiceName, ServiceCategory, "
                  "ChargeDescription, ListCost, BillingPeriodEnd FROM cost")
    assert row[:4] == (raw["BillingAccountId"], raw["SubscriptionGuid"], "GBP", raw["InstanceName"])
    assert row[4:7] == ("SQL Database", "Databases", "vCore")
    # no PaygCostInBillingCurrency value: MarketPrice (USD) x Quantity x ExchangeRate
    assert row[7] == Decimal(raw["MarketPrice"]) * Decimal(raw["Quantity"]) * Decimal(raw["ExchangeRate"])
    assert row[8] == datetime(2020, 11, 1)


# --- legacy usage details -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, currency", [("payg_2019-11-01.csv", "USD"), ("payg_localised_de.csv", "EUR")])
def test_legacy_pay_as_you_go_and_localised_headers(name, currency, load_billing, query):
    path = AZURE / name
    [result] = load_billing(path)
    raw = read_csv_rows(path)
    assert result.status == "loaded", result.error
    assert "no ChargeType column: every row is Usage" in result.message
    rows = query("SELECT BillingAccountId, SubAccountId, BillingCurrency, ChargeCategory, ChargeFrequency, "
                 "ChargePeriodStart, BillingPeriodStart, BillingPeriodEnd, ResourceType, ConsumedQuantity "
                 "FROM cost ORDER BY x_SourceLine")
    for row, source in zip(rows, raw, strict=True):
        subscription = azure_cell(source, "SubscriptionGuid")
        day = datetime.fromisoformat(azure_cell(source, "UsageDateTime"))
        assert row[:5] == (subscription, subscription, currency, "Usage", "Usage-Based")
        assert row[5:8] == (day, day.replace(day=1), datetime(day.year, day.month + 1, 1))
        assert row[8:] == (azure_cell(source, "ResourceType"), Decimal(azure_cell(source, "UsageQuantity")))


def test_an_export_without_a_currency_column_needs_the_currency_option(load_billing, query):
    path = AZURE / "ea_2019-10-01_no_currency.csv"
    [failed] = load_billing(path)
    assert failed.status == "failed"
    assert "missing required column(s) for the azure format" in failed.error
    assert "pass --currency CODE" in failed.error
    assert query("SELECT count(*) FROM cost") == [(0,)]

    [loaded] = load_billing(path, options=LoadOptions(currency="usd"))
    assert loaded.status == "loaded"
    assert "BillingCurrency = USD (--currency)" in loaded.message
    assert query("SELECT DISTINCT BillingCurrency FROM cost") == [("USD",)]


def test_the_currency_option_on_the_command_line(cli):
    path = AZURE / "ea_2019-10-01_no_currency.csv"
    without = cli("billing", "load", str(path))
    assert without.code == 1 and "--currency CODE" in without.out
    with_usd = cli("billing", "load", str(path), "--currency", "USD")
    assert with_usd.code == 0 and "USD 3.22" in with_usd.out  # 2.304 + 0.9135


def test_a_malformed_currency_option_is_rejected(load_billing):
    [result] = load_billing(AZURE / "ea_2019-10-01_no_currency.csv", options=LoadOptions(currency="US$"))
    assert result.status == "failed" and "--currency 'US$' is not a 3-letter ISO 4217 code" in result.error


def test_the_currency_option_does_not_override_a_currency_column(load_billing, query):
    load_billing(EA_2024, options=LoadOptions(currency="USD"))
    assert query("SELECT DISTINCT BillingCurrency FROM cost") == [("EUR",)]


# --- actual and amortized -------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name, options, dataset, reason", [
    ("costs_202407.csv", LoadOptions(), "actual", "default"),
    ("Detail_AmortizedCost_202407.csv", LoadOptions(), "amortized", "file name"),
    ("ACTUALCOST.csv", LoadOptions(), "actual", "file name"),
    ("ActualCost_202407.csv", LoadOptions(dataset="amortized"), "amortized", "--dataset"),
])
def test_dataset_comes_from_the_option_then_the_file_name(file_name, options, dataset, reason, load_billing, query,
                                                           tmp_path):
    path = tmp_path / file_name
    shutil.copy(EA_2024, path)
    [result] = load_billing(path, options=options)
    assert result.message.startswith(f"dataset {dataset} ({reason})")
    assert query("SELECT DISTINCT x_Dataset FROM cost_line") == [(dataset,)]
    assert query("SELECT dataset FROM load_log") == [(dataset,)]


def assert_actual_and_amortized_combine(query, actual: Path, amortized: Path) -> None:
    """BilledCost is the actual export's; EffectiveCost, ListCost and ContractedCost are the amortized export's."""
    loaded = loaded_totals(query)
    for path, measures in ((actual, ("billed",)), (amortized, ("effective", "list_cost", "contracted"))):
        expected = file_totals(azure, path)
        for measure in measures:
            assert by_measure(loaded, measure) == by_measure(expected, measure), (path.name, measure)


@pytest.mark.parametrize("order", [(ACTUAL, AMORTIZED), (AMORTIZED, ACTUAL)], ids=["actual-first", "amortized-first"])
def test_an_actual_and_amortized_pair_of_one_month_reconciles(order, load_billing, query):
    results = load_billing(*order)
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert_actual_and_amortized_combine(query, ACTUAL, AMORTIZED)
    # by hand: the actual export has the upfront reservation purchase, the amortized one its July share
    assert query("SELECT sum(BilledCost), sum(EffectiveCost) FROM cost") == [(Decimal("8775.55"), Decimal("759.55"))]
    assert query("SELECT x_Dataset, count(*) FROM cost_line GROUP BY 1 ORDER BY 1") == [
        ("actual", len(read_csv_rows(ACTUAL))), ("amortized", len(read_csv_rows(AMORTIZED)))]
    assert query("SELECT sum(billed_cost), sum(effective_cost) FROM daily_spend") == [
        (Decimal("8775.55"), Decimal("759.55"))]


def test_the_finops_toolkit_actual_and_amortized_exports_of_one_month_combine(shared_billing, load_billing, query):
    """Microsoft's real EA samples of September 2023."""
    actual, amortized = (shared_billing / "finops-toolkit" / f"EA_{kind}Cost_Small.csv"
                         for kind in ("Actual", "Amortized"))
    results = load_billing(actual, amortized)
    assert [(r.status, r.format) for r in results] == [("loaded", "azure"), ("loaded", "azure")]
    assert_actual_and_amortized_combine(query, actual, amortized)


# --- partitioned exports ----------------------------------------------------------------------------------------

def test_a_partitioned_export_loads_as_one_unit(load_billing, query):
    sources, problems = expand_paths([str(PARTITIONED)])
    assert problems == [] and len(sources) == 1 and len(sources[0].files) == 2
    [result] = load_billing(PARTITIONED)
    folder = PARTITIONED / EXPORT_RUN
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    raw = read_csv_rows(folder / "part_0_0001.csv") + read_csv_rows(folder / "part_0_0002.csv")
    assert result.status == "loaded" and result.rows == manifest["dataRowCount"] == len(raw) == 5
    assert result.message.startswith("dataset amortized (manifest exportConfig.type)")  # no hint in the names
    # runInfo.submittedTime, to the second
    assert query("SELECT DISTINCT x_ExportTime FROM cost_line") == [(datetime(2024, 7, 1, 6, 15, 42),)]
    assert query("SELECT regexp_extract(x_SourceFile, '[^/]+$'), count(*) FROM cost GROUP BY 1 ORDER BY 1") == [
        ("part_0_0001.csv", 2), ("part_0_0002.csv", 3)]


def test_a_manifest_whose_row_count_disagrees_is_rejected(load_billing, query, tmp_path):
    shutil.copytree(PARTITIONED, tmp_path / "export")
    manifest_path = tmp_path / "export" / EXPORT_RUN / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["blobs"][1]["dataRowCount"] = 2
    manifest["dataRowCount"] = 4
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    [result] = load_billing(manifest_path)
    assert result.status == "failed"
    assert result.error == f"{manifest_path}: read 5 rows but the manifest's dataRowCount says 4"
    assert query("SELECT count(*) FROM cost") == [(0,)]


def test_a_manifest_with_a_missing_blob_is_rejected(cli, tmp_path):
    shutil.copytree(PARTITIONED, tmp_path / "export")
    folder = tmp_path / "export" / EXPORT_RUN
    (folder / "part_0_0002.csv").unlink()
    sources, problems = expand_paths([str(tmp_path / "export")])
    assert sources == []
    [(path, error)] = problems
    assert path == str(folder / "manifest.json")
    assert f"blobs[1] 'costexports/{EXPORT_RUN}/part_0_0002.csv' (3 rows) was not found next to the manifest" in error
    result = cli("billing", "load", str(tmp_path / "export"))
    assert result.code == 1 and "was not found next to the manifest" in result.out


# --- Parquet --------------------------------------------------------------------------------------------------

def test_a_parquet_export_with_typed_columns(load_billing, query, tmp_path):
    raw = read_csv_rows(EA_2024)
    decimals = {"Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "PayGPrice"}
    dates = {"Date", "BillingPeriodStartDate", "BillingPeriodEndDate"}
    columns = {}
    for name in raw[0]:
        cells = [row[name] or None for row in raw]
        if name in decimals:
            columns[name] = pa.array([Decimal(c) if c else None for c in cells], pa.decimal128(38, 18))
        elif name in dates:
            columns[name] = pa.array([datetime.strptime(c, "%m/%d/%Y") for c in cells], pa.timestamp("us", tz="UTC"))
        else:
            columns[name] = pa.array(cells, pa.string())
    path = tmp_path / "part_0_0001.parquet"
    pq.write_table(pa.table(columns), path)
    [result] = load_billing(path)
    assert (result.status, result.format, result.rows) == ("loaded", "azure", 7), result.error
    assert loaded_totals(query) == totals(raw, azure)
    assert query("SELECT min(ChargePeriodStart), max(BillingPeriodEnd), min(x_SourceLine) FROM cost") == [
        (datetime(2024, 7, 1), datetime(2024, 8, 1), 1)]


# --- precision and bad input ------------------------------------------------------------------------------------

def ea_variant(tmp_path: Path, name: str, **changes: str) -> Path:
    """The EA fixture's first row with some cells replaced, written with the csv module."""
    import csv

    row = dict(read_csv_rows(EA_2024)[0], **changes)
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    return path


def test_large_quantities_and_tiny_costs_keep_their_precision(load_billing, query, tmp_path):
    path = ea_variant(tmp_path, "big.csv", Quantity="20000000000000", UnitPrice="12.5", PayGPrice="0.0000000125",
                      CostInBillingCurrency="250000000000000")
    [result] = load_billing(path)
    assert result.status == "loaded", result.error
    assert query("SELECT BilledCost, ContractedCost, ListCost FROM cost") == [
        (Decimal("250000000000000"), Decimal("250000000000000"), Decimal("250000"))]


BAD = {
    "impossible_date": ({"Date": "7/32/2024"}, 'line 2, column "Date": "7/32/2024" is not a date/time'),
    "thousands_separator": ({"CostInBillingCurrency": "2,049.60"},
                            'line 2, column "CostInBillingCurrency": "2,049.60" is not a number'),
    "unknown_charge_type": ({"ChargeType": "Bonus"},
                            'line 2: charge type "Bonus" is not in sql/seed/charge_category_map.csv for Microsoft'),
    "tags_not_json": ({"Tags": "team=training"}, 'line 2, column "Tags": "team=training" is not a JSON object'),
    "empty_cost": ({"CostInBillingCurrency": ""},
                   'line 2, column "CostInBillingCurrency": empty, but every row needs a value'),
    "empty_currency": ({"BillingCurrencyCode": ""},
                       'line 2, column "BillingCurrencyCode": empty, but every row needs a value'),
    "unknown_currency": ({"BillingCurrencyCode": "EURO"}, '"EURO" is not an ISO 4217 currency code'),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_azure_input_is_rejected_naming_line_and_column(case, load_billing, query, tmp_path):
    changes, expected = BAD[case]
    path = ea_variant(tmp_path, f"{case}.csv", **changes)
    [result] = load_billing(path)
    assert result.status == "failed"
    assert result.error.startswith(str(path)) and expected in result.error, result.error
    assert query("SELECT count(*) FROM cost") == [(0,)]


def test_a_row_empty_but_for_its_date_is_rejected(load_billing, tmp_path):
    header = read_csv_rows(AZURE / "payg_2019-11-01.csv")[0].keys()
    path = tmp_path / "mostly_empty.csv"
    cells = ["2022-11-03" if name == "UsageDateTime" else "" for name in header]
    path.write_text("\ufeff" + ",".join(header) + "\r\n" + ",".join(cells) + "\r\n", encoding="utf-8")
    [result] = load_billing(path)
    assert result.status == "failed"
    assert result.error == f'{path}: line 2, column "PreTaxCost": empty, but every row needs a value'


@pytest.mark.parametrize("header, expected", [
    ("SubscriptionGuid,UsageDateTime,MeterCategory,PreTaxCost,Currency", "azure"),
    ("billingAccountId,date,meterId,costInBillingCurrency,billingCurrency", "azure"),
    ("Date,Cost,ConsumedService,BillingCurrency", "azure"),
    ("BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,x_SkuMeterCategory,ConsumedService", "focus"),
    ("Date,Cost,Account", None),
    ("Date,MeterCategory,Currency", None),
])
def test_detection_needs_a_cost_a_date_and_an_azure_column(header, expected):
    columns = tuple(header.split(","))
    azure = registry.get("azure")
    assert (azure.detect(columns, LoadOptions()) > 0) == (expected == "azure")
    if expected:
        assert registry.choose(columns, "csv", LoadOptions()) is registry.get(expected)


# --- the demo generator's Azure files -----------------------------------------------------------------------------

def test_the_demo_azure_exports_load_and_reconcile(load_billing, query, tmp_path):
    from etl.demo.generator import write_demo_exports

    written = write_demo_exports(tmp_path / "demo", rows=400, providers=("Microsoft",), end=date(2025, 12, 31))
    results = load_billing(tmp_path / "demo" / "azure")
    assert len(results) == len(written) == 24 and all(r.status == "loaded" for r in results)
    assert loaded_totals(query) == file_totals(azure, *written)
    assert query("SELECT DISTINCT BillingCurrency, ServiceProviderName, x_Dataset FROM cost_line") == [
        ("EUR", "Microsoft", "actual")]
    assert query("SELECT count(*) FROM cost WHERE ServiceCategory = 'Other'") == [(0,)]
    assert query("SELECT DISTINCT Tags->>'spendscope-demo' FROM cost") == [("synthetic",)]
