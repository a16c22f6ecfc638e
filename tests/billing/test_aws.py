"""AWS Cost and Usage Report adapter: legacy CUR CSV, the Athena snake_case dialect and CUR 2.0 (Parquet, CSV.GZ).

Expected values come from the raw files (tests/billing/reference.py), never from DuckDB. Every fixture's totals, row
count and reload are checked in test_conformance.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.billing import registry
from etl.billing.base import LoadOptions
from etl.demo.generator import write_demo_exports
from tests.billing.reference import aws, file_totals, num, parquet_rows
from tests.conftest import FIXTURES
from tests.helpers import ZERO, by_line, loaded_totals, read_csv_rows

AWS = FIXTURES / "billing" / "aws"
LEGACY = AWS / "cur_legacy_2025-03.csv"
ATHENA = AWS / "cur_athena_2025-04.csv"
CUR2 = AWS / "cur2" / "BILLING_PERIOD=2025-05"
CUR2_PARQUET = CUR2 / "spendscope-cur2-00001.snappy.parquet"
CUR2_CSV = CUR2 / "spendscope-cur2-00001.csv.gz"


def rewrite_csv(source: Path, target: Path, edit=None, drop_columns=(), add_columns=()) -> Path:
    """Copy a fixture CSV with rows edited (edit(line_number, row) -> row or None to drop) and columns dropped/added."""
    rows = read_csv_rows(source)
    header = [h for h in rows[0] if h not in drop_columns] + [name for name, _ in add_columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for number, row in enumerate(rows, start=2):
        row = dict(row)
        for name, filler in add_columns:
            row[name] = filler(number, row)
        row = edit(number, row) if edit else row
        if row is not None:
            writer.writerow(row)
    data = out.getvalue().encode("utf-8")
    target.write_bytes(gzip.compress(data, mtime=0) if target.name.endswith(".gz") else data)
    return target


# ---- legacy CUR CSV ------------------------------------------------------------------------------------------

def test_legacy_cur_rows_are_mapped_per_line_item_type(load_billing, query):
    [result] = load_billing(LEGACY)
    assert result.message is None  # every amortization column is present: no fallback note
    rows = by_line(query, "BillingAccountId, SubAccountId, ChargeCategory, ChargeClass, ChargeFrequency, "
                          "EffectiveCost, PricingCategory, CommitmentDiscountId, CommitmentDiscountType, ServiceName, "
                          "ServiceCategory, RegionId, RegionName, ConsumedQuantity, ConsumedUnit, ChargeDescription, "
                          "InvoiceIssuerName, ServiceProviderName, ChargePeriodStart::VARCHAR, "
                          "BillingPeriodStart::VARCHAR, BillingPeriodEnd::VARCHAR")
    raw = {n: r for n, r in enumerate(read_csv_rows(LEGACY), start=2)}
    assert {r[0] for r in rows.values()} == {"012345678901"}  # text, leading zero kept
    assert all(r[1] == raw[n]["lineItem/UsageAccountId"] for n, r in rows.items())
    assert all(r[16:18] == ("Amazon Web Services EMEA SARL", "AWS") for r in rows.values())
    assert all(r[19:] == ("2025-03-01 00:00:00", "2025-04-01 00:00:00") for r in rows.values())
    assert rows[2][18] == "2025-03-04 10:00:00"  # ...T10:00:00.000Z read as UTC
    sp_arn, ri_arn = raw[4]["savingsPlan/SavingsPlanARN"], raw[7]["reservation/ReservationARN"]
    expected = {  # line: (category, class, frequency, pricing category, commitment id, commitment type)
        2: ("Usage", None, "Usage-Based", "Standard", None, None),
        3: ("Usage", None, "Usage-Based", "Standard", None, None),  # no pricing/term on a Usage row: on-demand
        4: ("Usage", None, "Usage-Based", "Committed", sp_arn, "Savings Plan"),
        5: ("Usage", None, "Usage-Based", "Committed", sp_arn, "Savings Plan"),
        6: ("Purchase", None, "Recurring", "Committed", sp_arn, "Savings Plan"),  # purchase option No Upfront
        7: ("Usage", None, "Usage-Based", "Committed", ri_arn, "Reserved Instance"),
        8: ("Purchase", None, "Recurring", "Committed", ri_arn, "Reserved Instance"),
        9: ("Purchase", None, "One-Time", "Committed", ri_arn, "Reserved Instance"),
        10: ("Purchase", None, "One-Time", None, None, None),
        11: ("Tax", None, "One-Time", None, None, None),
        12: ("Credit", None, "One-Time", None, None, None),
        13: ("Credit", "Correction", "One-Time", None, None, None),
        14: ("Credit", None, "Usage-Based", None, None, None),
        15: ("Usage", None, "Usage-Based", "Dynamic", None, None),  # SpotUsage
        16: ("Usage", None, "Usage-Based", "Standard", None, None),
    }
    assert {n: (r[2], r[3], r[4], r[6], r[7], r[8]) for n, r in rows.items()} == expected
    # amortization, each checked against the raw columns it comes from
    assert rows[4][5] == Decimal(raw[4]["savingsPlan/SavingsPlanEffectiveCost"])
    assert rows[5][5] == 0 and rows[9][5] == 0  # negation; RI upfront fee is amortized, not counted again
    assert rows[6][5] == (Decimal(raw[6]["savingsPlan/TotalCommitmentToDate"])
                          - Decimal(raw[6]["savingsPlan/UsedCommitment"])) == Decimal("6.56")
    assert rows[7][5] == Decimal(raw[7]["reservation/EffectiveCost"])
    assert rows[8][5] == Decimal("4.64")
    assert rows[10][5] == Decimal(raw[10]["lineItem/UnblendedCost"])  # a support Fee without ARN stays
    # names, regions and quantities
    assert rows[2][9:13] == ("Amazon Elastic Compute Cloud", "Compute", "eu-west-1", "EU (Ireland)")
    assert rows[3][11] == "eu-west-1"  # product/regionCode blank: product/region
    assert rows[10][9:11] == ("AWS Support (Business)", "Other")
    assert rows[16][10] == "Networking" and rows[16][12] is None  # blank location type: no region name
    assert rows[2][13:15] == (Decimal("1.0"), "Hrs")
    assert rows[11][13:15] == (None, None)  # a Tax row's usage amount 1 is not consumption
    assert rows[11][15] == raw[11]["lineItem/LineItemDescription"] == 'Tax for product code AmazonEC2 ("VAT", 21%)'


def test_legacy_list_cost_follows_the_public_price_or_the_billed_cost(load_billing, query):
    load_billing(LEGACY)
    lists = {n: r[0] for n, r in by_line(query, "ListCost, BilledCost").items()}
    raw = {n: r for n, r in enumerate(read_csv_rows(LEGACY), start=2)}
    assert lists[7] == Decimal(raw[7]["pricing/publicOnDemandCost"])  # DiscountedUsage: on-demand equivalent
    assert lists[11] == Decimal(raw[11]["lineItem/UnblendedCost"]) != Decimal(raw[11]["pricing/publicOnDemandCost"])
    assert lists[5] == 0  # SavingsPlanNegation
    assert lists[16] == Decimal(raw[16]["pricing/publicOnDemandRate"]) * Decimal(raw[16]["lineItem/UsageAmount"])
    assert lists[15] == Decimal(raw[15]["lineItem/UnblendedCost"])  # no public cost or rate at all


def test_legacy_tags_keep_the_original_header_names_and_skip_blanks(load_billing, query):
    load_billing(LEGACY)
    got = {n: (json.loads(t) if t else None) for n, (t,) in by_line(query, "Tags").items()}
    expected = {}
    for number, row in enumerate(read_csv_rows(LEGACY), start=2):
        tags = {}
        for header, cell in row.items():
            if header.startswith("resourceTags/") and cell:
                tags[header.removeprefix("resourceTags/")] = cell
            elif header.startswith("costCategory/") and cell:
                tags[header] = cell
        expected[number] = tags or None
    assert got == expected
    assert got[2] == {"aws:createdBy": "IAMUser:AIDAEXAMPLE:ops", "user:CostCenter": "CC-0042",
                      "costCategory/Business Unit": "Research"}  # user:team is blank on this row


def test_tag_columns_that_differ_only_in_case_stay_apart(load_billing, query, tmp_path):
    path = rewrite_csv(LEGACY, tmp_path / "case.csv",
                       add_columns=[("resourceTags/user:Team", lambda n, r: "Upper" if n == 2 else "")])
    [result] = load_billing(path)
    assert result.status == "loaded", result.error
    [(tags,)] = query("SELECT Tags FROM cost WHERE x_SourceLine = 2")
    assert json.loads(tags) == {"aws:createdBy": "IAMUser:AIDAEXAMPLE:ops", "user:CostCenter": "CC-0042",
                                "user:Team": "Upper", "costCategory/Business Unit": "Research"}


def test_a_cur_without_commitment_columns_falls_back_to_billed_and_says_so(load_billing, query, tmp_path):
    commitment = [h for h in read_csv_rows(LEGACY)[0] if h.startswith(("savingsPlan/", "reservation/"))]
    path = rewrite_csv(LEGACY, tmp_path / "bare.csv", drop_columns=commitment)
    [result] = load_billing(path)
    assert result.status == "loaded", result.error
    raw = read_csv_rows(LEGACY)
    expected = sum((Decimal(r["lineItem/UnblendedCost"]) for r in raw
                    if r["lineItem/LineItemType"] not in ("SavingsPlanNegation",)), ZERO)
    assert query("SELECT sum(EffectiveCost) FROM cost") == [(expected,)]
    assert "EffectiveCost = BilledCost for any SavingsPlanCoveredUsage" in result.message
    assert "RIFee" in result.message and "DiscountedUsage" in result.message


def test_a_restated_month_replaces_the_billing_period(load_billing, query, tmp_path):
    def final(number: int, row: dict) -> dict | None:
        if number == 16:
            return None
        row["bill/InvoiceId"] = "EUINIE25-000321"
        if number == 2:
            row["lineItem/UnblendedCost"] = "0.2352000000"
        return row

    estimate = rewrite_csv(LEGACY, tmp_path / "2025-03-estimated.csv")
    restated = rewrite_csv(LEGACY, tmp_path / "2025-03-final.csv", edit=final)
    first, second = load_billing(estimate, restated)
    assert (first.status, second.status) == ("loaded", "loaded")
    expected = file_totals(aws, restated)
    assert loaded_totals(query) == expected
    assert query("SELECT count(*), count(DISTINCT x_SourceFile) FROM cost") == [(14, 1)]
    assert query("SELECT sum(billed_cost) FROM daily_spend") == [(expected["USD"].billed,)]


def test_part_files_of_one_export_are_flagged(load_billing, tmp_path):
    part1 = rewrite_csv(LEGACY, tmp_path / "myreport-00001.csv.gz")
    rewrite_csv(LEGACY, tmp_path / "myreport-00002.csv.gz")
    [result] = load_billing(part1)
    assert result.status == "loaded", result.error
    assert "2 part files of this export" in result.message


# ---- Athena snake_case dialect -------------------------------------------------------------------------------

def test_athena_snake_case_dialect(load_billing, query):
    [result] = load_billing(ATHENA)
    assert (result.status, result.format, result.rows) == ("loaded", "aws", 5), result.error
    raw = read_csv_rows(ATHENA)
    rows = by_line(query, "BillingAccountId, SubAccountId, ServiceName, ServiceCategory, InvoiceIssuerName, "
                          "ChargePeriodStart::VARCHAR, ChargePeriodEnd::VARCHAR, CommitmentDiscountId, Tags, "
                          "EffectiveCost")
    assert {r[:2] for r in rows.values()} == {("000123456789", "000555666777")}
    marketplace = [n for n, r in enumerate(raw, start=2) if r["bill_billing_entity"] == "AWS Marketplace"]
    assert marketplace == [3, 4]
    for n in marketplace:
        assert rows[n][2:5] == (raw[n - 2]["product_product_name"], "Other", "Amazon Web Services EMEA SARL")
    assert rows[2][5:7] == ("2025-04-02 07:00:00", "2025-04-02 08:00:00")  # '... 07:00:00.000', UTC
    assert rows[5][7] == raw[3]["savings_plan_savings_plan_a_r_n"]
    assert rows[5][9] == Decimal(raw[3]["savings_plan_savings_plan_effective_cost"])
    assert json.loads(rows[2][8]) == {"aws_created_by": "AssumedRole:AROAEXAMPLE:ci", "user_team": "platform",
                                      "costCategory/business_unit": "Platform"}
    assert json.loads(rows[3][8]) == {"user_team": "platform"} and rows[6][8] is None


# ---- CUR 2.0 -----------------------------------------------------------------------------------------------

def test_cur2_parquet_values(load_billing, query):
    load_billing(CUR2_PARQUET)
    raw = {n: r for n, r in enumerate(parquet_rows(CUR2_PARQUET), start=1)}
    rows = by_line(query, "BilledCost, EffectiveCost, ListCost, ContractedCost, BillingAccountId, BillingAccountName, "
                          "SubAccountId, SubAccountName, ServiceName, RegionId, RegionName, Tags, "
                          "CommitmentDiscountType, BillingPeriodStart::VARCHAR")
    assert rows[1][:4] == (Decimal("0.0912"), Decimal("0.0912"), Decimal("0.096"), Decimal("0.0912"))  # net
    assert rows[2][0] == num(raw[2]["line_item_unblended_cost"])  # net blank: unblended
    assert rows[2][2] == Decimal(raw[2]["pricing_public_on_demand_rate"]) * num(raw[2]["line_item_usage_amount"])
    assert rows[3][1] == num(raw[3]["savings_plan_net_savings_plan_effective_cost"])
    assert rows[5][1] == Decimal("5.8") and rows[5][12] == "Savings Plan"
    assert rows[7][2] == rows[7][0]  # empty public rate string, no public cost: billed
    assert rows[1][4:8] == ("009876543210", "Example Corp (payer)", "001122334455", "ml-prod")
    assert rows[1][8:11] == ("Amazon Elastic Compute Cloud", "us-east-1", "US East (N. Virginia)")
    assert raw[2]["product_region_code"] == "" and rows[2][8:10] == ("Amazon Simple Storage Service", "us-east-1")
    assert rows[5][8] == raw[5]["product"]["product_name"]
    assert all(r[13] == "2025-05-01 00:00:00" for r in rows.values())
    for n, row in raw.items():
        tags = {k: v for k, v in row["resource_tags"].items() if v}
        tags.update({f"costCategory/{k}": v for k, v in row["cost_category"].items() if v})
        assert (json.loads(rows[n][11]) if rows[n][11] else None) == (tags or None), n
    assert json.loads(rows[1][11]) == {"user_team": "ml", "aws_created_by": "IAMUser:AIDAEXAMPLE2:dev",
                                       "costCategory/business_unit": "Research"}


def test_cur2_csv_gz_matches_the_raw_file_and_the_parquet_export(load_billing, query):
    [first] = load_billing(CUR2_PARQUET)
    from_parquet = query("SELECT * EXCLUDE (x_SourceFile, x_LoadId, x_SourceLine) FROM cost ORDER BY x_SourceLine")
    [second] = load_billing(CUR2_CSV)
    assert (first.status, second.status, second.format) == ("loaded", "loaded", "aws"), second.error
    raw = read_csv_rows(CUR2_CSV)
    assert query("SELECT DISTINCT x_SourceFile FROM cost") == [(str(CUR2_CSV.resolve()),)]  # period replaced
    from_csv = query("SELECT * EXCLUDE (x_SourceFile, x_LoadId, x_SourceLine) FROM cost ORDER BY x_SourceLine")
    assert from_csv == from_parquet
    assert [n for (n,) in query("SELECT x_SourceLine FROM cost ORDER BY 1")] == list(range(2, 10))
    assert json.loads(raw[0]["resource_tags"])["user_cost_center"] == ""  # blank tag value in the raw file...
    [(tags,)] = query("SELECT Tags FROM cost WHERE x_SourceLine = 2")
    assert "user_cost_center" not in json.loads(tags)  # ...left out


def test_columns_split_out_of_a_cur2_map_do_not_duplicate_its_tags(load_billing, query, tmp_path):
    split = rewrite_csv(CUR2_CSV, tmp_path / "cur2-split.csv.gz", add_columns=[
        ("resource_tags_user_team", lambda n, r: json.loads(r["resource_tags"] or "{}").get("user_team", ""))])
    [result] = load_billing(split)
    assert result.status == "loaded", result.error
    got = [json.loads(t) if t else None for (t,) in query("SELECT Tags FROM cost ORDER BY x_SourceLine")]
    expected = []
    for row in read_csv_rows(CUR2_CSV):
        tags = {k: v for k, v in json.loads(row["resource_tags"] or "{}").items() if v}
        tags.update({f"costCategory/{k}": v for k, v in json.loads(row["cost_category"] or "{}").items() if v})
        expected.append(tags or None)
    assert got == expected


# ---- detection and bad input ---------------------------------------------------------------------------------

def test_each_dialect_is_detected_and_other_formats_are_not():
    for path in (LEGACY, ATHENA, CUR2_CSV):
        header = tuple(next(csv.reader(io.StringIO(read_header(path)))))
        assert registry.choose(header, "csv", LoadOptions()).NAME == "aws", path
    parquet_header = tuple(pq.read_schema(CUR2_PARQUET).names)
    assert registry.choose(parquet_header, "parquet", LoadOptions()).NAME == "aws"
    focus = FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv"
    focus_header = tuple(next(csv.reader(io.StringIO(read_header(focus)))))
    assert registry.choose(focus_header, "csv", LoadOptions()).NAME == "focus"
    oci = ("lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart", "cost/myCost")
    assert registry.get("aws").detect(oci, LoadOptions()) == 0


def read_header(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8-sig").splitlines()[0]


def test_forcing_the_aws_format_on_another_export_names_the_missing_columns(load_billing):
    focus = FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv"
    [result] = load_billing(focus, options=LoadOptions(format="aws"))
    assert result.status == "failed"
    assert "missing required column(s) for the aws format: bill_payer_account_id; " in result.error
    assert "line_item_unblended_cost" in result.error


def set_cell(column: str, line: int, cell: str):
    def edit(number: int, row: dict) -> dict:
        if number == line:
            row[column] = cell
        return row
    return edit


BAD_LEGACY = {
    "missing_currency_column": (
        dict(drop_columns=["lineItem/CurrencyCode"]),
        "missing required column(s) for the aws format: line_item_currency_code"),
    "bad_usage_date": (
        dict(edit=set_cell("lineItem/UsageStartDate", 4, "2025-03-32T10:00:00.000Z")),
        'line 4, column "lineItem/UsageStartDate": "2025-03-32T10:00:00.000Z" is not a date/time'),
    "unknown_line_item_type": (
        dict(edit=set_cell("lineItem/LineItemType", 5, "BogusCharge")),
        'line 5: charge type "BogusCharge" is not in sql/seed/charge_category_map.csv for AWS'),
    "empty_payer": (
        dict(edit=set_cell("bill/PayerAccountId", 6, "")),
        'line 6, column "bill/PayerAccountId": empty, but every row needs a value'),
    "bad_currency": (
        dict(edit=set_cell("lineItem/CurrencyCode", 2, "US$")),
        'line 2, column "BillingCurrency": "US$" is not an ISO 4217 currency code'),
}


@pytest.mark.parametrize("case", sorted(BAD_LEGACY))
def test_bad_legacy_input_is_rejected_with_file_line_and_column(case, load_billing, query, tmp_path):
    changes, expected = BAD_LEGACY[case]
    bad = rewrite_csv(LEGACY, tmp_path / f"{case}.csv", **changes)
    good = rewrite_csv(ATHENA, tmp_path / "good.csv")
    results = load_billing(bad, good)
    assert [r.status for r in results] == ["failed", "loaded"]
    assert results[0].error.startswith(str(bad)) and expected in results[0].error, results[0].error
    assert query("SELECT DISTINCT x_SourceFile FROM cost") == [(str(good.resolve()),)]


def test_a_cur2_csv_map_column_that_is_not_json_is_rejected(load_billing, tmp_path):
    bad = rewrite_csv(CUR2_CSV, tmp_path / "cur2-bad.csv.gz",
                      edit=set_cell("resource_tags", 4, "user_team=ml"))
    [result] = load_billing(bad)
    assert result.status == "failed"
    assert 'line 4, column "resource_tags": "user_team=ml" is not a JSON object of tags' in result.error


def test_a_cur2_parquet_rate_that_is_not_a_number_is_rejected(load_billing, tmp_path):
    table = pq.read_table(CUR2_PARQUET)
    rates = table.column("pricing_public_on_demand_rate").to_pylist()
    rates[1] = "n/a"  # row 2 has no public cost, so its list cost needs the rate
    index = table.schema.get_field_index("pricing_public_on_demand_rate")
    bad = tmp_path / "cur2-bad-rate.snappy.parquet"
    pq.write_table(table.set_column(index, "pricing_public_on_demand_rate", pa.array(rates, pa.string())), bad)
    [result] = load_billing(bad)
    assert result.status == "failed"
    assert 'line 2, column "pricing_public_on_demand_rate": "n/a" is not a number' in result.error


# ---- the synthetic demo exports ------------------------------------------------------------------------------

def test_the_demo_cur2_exports_load_and_reconcile(load_billing, query, tmp_path):
    files = write_demo_exports(tmp_path / "demo", rows=300, providers=("AWS",), end=date(2025, 12, 31))
    results = load_billing(tmp_path / "demo" / "aws")
    assert len(results) == len(files) == 24
    assert {(r.status, r.format) for r in results} == {("loaded", "aws")}
    assert all(r.message is None for r in results)
    expected_rows = 0
    billed = effective = ZERO
    for path in files:
        raw = parquet_rows(path)
        expected_rows += len(raw)
        billed += sum((aws(r).billed for r in raw), ZERO)
        effective += sum((aws(r).effective for r in raw), ZERO)
    assert query("SELECT count(*), sum(BilledCost), sum(EffectiveCost) FROM cost") == [
        (expected_rows, billed, effective)]
    assert query("SELECT DISTINCT Tags->>'user_spendscope_demo', BillingAccountName LIKE 'DEMO %' FROM cost") == [
        ("synthetic", True)]


def test_the_demo_reserved_instance_bills_and_amortizes_as_cur_does(load_billing, query, tmp_path):
    """The demo's EC2 Reserved Instance (No Upfront): covered usage is DiscountedUsage billed 0 and the month's RIFee
    bills the reserved hours, so BilledCost = on-demand usage + the RI fee; EffectiveCost = on-demand usage + the
    covered usage at the RI rate + the fee's unused part. Per month, to the cent, from the files' own columns."""
    files = write_demo_exports(tmp_path / "demo", rows=300, providers=("AWS",), end=date(2025, 12, 31))
    load_billing(tmp_path / "demo" / "aws")
    parts: dict[tuple[date, str], Decimal] = {}
    for path in files:
        for row in parquet_rows(path):
            kind, month = row["line_item_line_item_type"], row["bill_billing_period_start_date"].date()
            for name, column in (("billed", "line_item_unblended_cost"), ("ri", "reservation_effective_cost"),
                                 ("unused", "reservation_unused_recurring_fee")):
                parts[month, kind, name] = parts.get((month, kind, name), ZERO) + num(row[column])
    months = sorted({m for m, _, _ in parts})
    assert len(months) == 24 and {k for _, k, _ in parts} == {"Usage", "DiscountedUsage", "RIFee"}
    cent = Decimal("0.01")
    expected = []
    for m in months:
        usage, fee, unused = parts[m, "Usage", "billed"], parts[m, "RIFee", "billed"], parts[m, "RIFee", "unused"]
        covered = parts[m, "DiscountedUsage", "ri"]
        assert parts[m, "DiscountedUsage", "billed"] == ZERO  # the fee pays for the covered hours
        assert Decimal("0.8499") < covered / fee < Decimal("0.9401")  # utilization 85-94 %, fee rounded
        assert abs(covered + unused - fee) < Decimal("0.000001")
        expected.append((m, (usage + fee).quantize(cent), (usage + covered + unused).quantize(cent)))
    loaded = query("SELECT BillingPeriodStart::DATE, round(sum(BilledCost), 2), round(sum(EffectiveCost), 2) "
                   "FROM cost GROUP BY ALL ORDER BY ALL")
    assert loaded == expected
    assert all(billed == effective for _, billed, effective in loaded)  # No Upfront: the fee is used + unused
    ri = query("SELECT ChargeCategory, ChargeFrequency, CommitmentDiscountType, CommitmentDiscountStatus, "
               "PricingCategory, count(*) FROM cost WHERE CommitmentDiscountId IS NOT NULL GROUP BY ALL ORDER BY ALL")
    assert [r[:5] for r in ri] == [("Purchase", "Recurring", "Reserved Instance", "Unused", "Committed"),
                                   ("Usage", "Usage-Based", "Reserved Instance", "Used", "Committed")]
    assert ri[0][5] == 24  # one RIFee a month
