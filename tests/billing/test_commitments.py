"""Commitment columns from each adapter's native export, and the utilization and coverage the loader keeps
(``commitment_month_rollup`` behind the ``commitment_utilization`` and ``commitment_coverage`` views), reconciled to
the cent with figures worked out by hand from the fixture rows, through loads, a replacement and the demo's removal.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.helpers import read_csv_rows

BILLING = FIXTURES / "billing"
FOCUS_1_0 = BILLING / "focus" / "focus_1_0_commitments.csv"
AWS_LEGACY = BILLING / "aws" / "cur_legacy_2025-03.csv"
AZURE_PAIR = BILLING / "azure" / "pair"
GCP_DETAILED = BILLING / "gcp" / "gcp_billing_export_resource_v1_detailed.jsonl"
GCP_LITERALS = BILLING / "gcp" / "gcp_flattened_python_literals.csv"

RI = "/providers/Microsoft.Capacity/reservationOrders/5b1e0c2d-7f3a-4e96-8d21-0a9b8c7d6e5f/reservations/" \
     "9f8e7d6c-5b4a-4c3d-2e1f-0a9b8c7d6e5f"
SP = "/providers/Microsoft.BillingBenefits/savingsPlanOrders/3c2b1a09-8f7e-4d6c-5b4a-39281706f5e4/savingsPlans/" \
     "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b"
AWS_SP = "arn:aws:savingsplans::012345678901:savingsplan/7c9e6679-0000-4000-8000-00000000bb02"
AWS_RI = "arn:aws:ec2:us-east-1:012345678901:reserved-instances/4f1b2c3d-0000-4000-8000-00000000aa01"


def columns(query, path: Path) -> dict[int, tuple]:
    """x_SourceLine -> (Id, Type, Category, Name, Status) of one file's rows."""
    rows = query("SELECT x_SourceLine, CommitmentDiscountId, CommitmentDiscountType, CommitmentDiscountCategory, "
                 "CommitmentDiscountName, CommitmentDiscountStatus FROM cost WHERE x_SourceFile = ?",
                 [str(path.resolve())])
    return {row[0]: row[1:] for row in rows}


def utilization(query) -> list[tuple]:
    return query("SELECT month, provider, currency, commitment_id, commitment_name, used_cost, unused_cost, "
                 "utilization FROM commitment_utilization ORDER BY ALL")


def coverage(query) -> list[tuple]:
    return query("SELECT month, provider, currency, eligible_cost, covered_cost, on_demand_cost, coverage "
                 "FROM commitment_coverage ORDER BY ALL")


def ratio(part: str | Decimal, whole: str | Decimal) -> pytest.approx:
    return pytest.approx(float(Decimal(part) / Decimal(whole)), abs=1e-12)


# ---- the FOCUS adapter: 1.1 columns read, 1.0 status derived ----------------------------------------------------

def test_a_focus_1_0_file_gets_its_status_derived_and_reconciles(load_billing, query):
    [result] = load_billing(FOCUS_1_0)
    assert result.status == "loaded", result.error
    got = columns(query, FOCUS_1_0)
    assert got[2] == (RI, "Reservation", "Usage", "RI_D4s_v5_weu", "Used")  # consumed 24 hours
    assert got[3] == (RI, "Reservation", "Usage", "RI_D4s_v5_weu", "Unused")  # no ConsumedQuantity
    assert got[4] == (RI, "Reservation", "Usage", "RI_D4s_v5_weu", None)  # the purchase has no status
    assert got[5] == (SP, "Savings Plan", "Spend", "SP_compute_1y", "Used")
    assert got[6] == (SP, "Savings Plan", "Spend", "SP_compute_1y", "Unused")
    assert {got[n] for n in (7, 8, 9)} == {(None, None, None, None, None)}
    # by hand from the file: RI used 30.00, unused 6.00; SP used 12.50, unused 7.50 (August 2024, USD)
    august = date(2024, 8, 1)
    assert utilization(query) == [
        (august, "Microsoft", "USD", SP, "SP_compute_1y", Decimal("12.50"), Decimal("7.50"), ratio("12.50", "20.00")),
        (august, "Microsoft", "USD", RI, "RI_D4s_v5_weu", Decimal("30.00"), Decimal("6.00"), ratio("30.00", "36.00")),
    ]
    # eligible compute: the two commitments' used 42.50 and the on-demand VM 14.00; not the unused parts, the
    # purchase, the spot VM (Dynamic) or storage
    assert coverage(query) == [(august, "Microsoft", "USD", Decimal("56.50"), Decimal("42.50"), Decimal("14.00"),
                                ratio("42.50", "56.50"))]


def test_a_replacement_recomputes_the_month(load_billing, query, tmp_path):
    load_billing(FOCUS_1_0)
    rows = read_csv_rows(FOCUS_1_0)
    rows[1]["EffectiveCost"] = "12.00"  # line 3: the reservation's unused part doubles in the newer export
    rows = [r for n, r in enumerate(rows, start=2) if n != 7]  # and the on-demand VM is gone
    newer = tmp_path / "focus_1_0_commitments_v2.csv"
    with newer.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    [result] = load_billing(newer)
    assert result.status == "loaded", result.error
    assert [(r[3], r[5], r[6], r[7]) for r in utilization(query)] == [
        (SP, Decimal("12.50"), Decimal("7.50"), ratio("12.50", "20.00")),
        (RI, Decimal("30.00"), Decimal("12.00"), ratio("30.00", "42.00"))]
    assert [r[3:] for r in coverage(query)] == [(Decimal("42.50"), Decimal("42.50"), Decimal("0.00"), 1.0)]


# ---- native adapters ----------------------------------------------------------------------------------------------

def test_aws_savings_plan_and_reserved_instance_lines(load_billing, query):
    load_billing(AWS_LEGACY)
    got = columns(query, AWS_LEGACY)
    types = {n: r["lineItem/LineItemType"] for n, r in enumerate(read_csv_rows(AWS_LEGACY), start=2)}
    by_type = {types[n]: values for n, values in got.items() if values[0]}
    sp_name, ri_name = AWS_SP.split("/")[-1], AWS_RI.split("/")[-1]
    assert by_type == {
        "SavingsPlanCoveredUsage": (AWS_SP, "Savings Plan", "Spend", sp_name, "Used"),
        "SavingsPlanNegation": (AWS_SP, "Savings Plan", "Spend", sp_name, None),
        "SavingsPlanRecurringFee": (AWS_SP, "Savings Plan", "Spend", sp_name, "Unused"),
        "DiscountedUsage": (AWS_RI, "Reserved Instance", "Usage", ri_name, "Used"),
        "RIFee": (AWS_RI, "Reserved Instance", "Usage", ri_name, "Unused"),
        "Fee": (AWS_RI, "Reserved Instance", "Usage", ri_name, None),  # the RI's upfront payment
    }
    march = date(2025, 3, 1)
    # by hand from the raw columns: SP used = SavingsPlanEffectiveCost 0.0978, unused = TotalCommitmentToDate 72 -
    # UsedCommitment 65.44; RI used = reservation/EffectiveCost 0.116, unused = UnusedAmortizedUpfrontFee 2.32 +
    # UnusedRecurringFee 2.32
    assert utilization(query) == [
        (march, "AWS", "USD", AWS_RI, ri_name, Decimal("0.116"), Decimal("4.64"), ratio("0.116", "4.756")),
        (march, "AWS", "USD", AWS_SP, sp_name, Decimal("0.0978"), Decimal("6.56"), ratio("0.0978", "6.6578")),
    ]
    # eligible EC2 usage: on demand 0.1176, covered 0.0978 (SP) + 0 (negation) + 0.116 (RI); not the 0.0312 of
    # SpotUsage:c7i.large (Dynamic)
    assert coverage(query) == [(march, "AWS", "USD", Decimal("0.3314"), Decimal("0.2138"), Decimal("0.1176"),
                                ratio("0.2138", "0.3314"))]


def test_azure_reservation_in_amortized_cost_details(load_billing, query):
    load_billing(AZURE_PAIR / "ea_actualcost_202407.csv")
    load_billing(AZURE_PAIR / "ea_amortizedcost_202407.csv")
    rid = ("/providers/Microsoft.Capacity/reservationOrders/3d2c1b0a-9f8e-4d7c-b6a5-948372615049/reservations/"
           "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918")
    raw = {n: r for n, r in enumerate(read_csv_rows(AZURE_PAIR / "ea_amortizedcost_202407.csv"), start=2)}
    got = columns(query, AZURE_PAIR / "ea_amortizedcost_202407.csv")
    expected_status = {"Usage": "Used", "UnusedReservation": "Unused"}
    for line, values in got.items():
        if raw[line]["PricingModel"] == "Reservation":
            assert values == (rid, "Reservation", "Usage", "RI_D4s_v5_weu", expected_status[raw[line]["ChargeType"]])
        else:
            assert values == (None, None, None, None, None)
    purchase = columns(query, AZURE_PAIR / "ea_actualcost_202407.csv")
    assert (rid, "Reservation", "Usage", "RI_D4s_v5_weu", None) in purchase.values()
    # amortized: two reservation usage rows of 724.00 together, 20.00 unused (July 2024, EUR)
    july = date(2024, 7, 1)
    assert utilization(query) == [(july, "Microsoft", "EUR", rid, "RI_D4s_v5_weu", Decimal("724.00"),
                                   Decimal("20.00"), ratio("724", "744"))]
    assert coverage(query) == [(july, "Microsoft", "EUR", Decimal("724.00"), Decimal("724.00"), Decimal("0"), 1.0)]


def test_azure_savings_plan_usage(load_billing, query):
    path = BILLING / "azure" / "ea_2021-10-01_gbp.csv"
    load_billing(path)
    raw = {n: r for n, r in enumerate(read_csv_rows(path), start=2)}
    [(line, values)] = [(n, v) for n, v in columns(query, path).items() if v[0]]
    assert raw[line]["PricingModel"] == "SavingsPlan"
    assert values == (raw[line]["benefitId"], "Savings Plan", "Spend", raw[line]["benefitName"], "Used")


def test_google_committed_use_discount_credits_and_fees(load_billing, query):
    load_billing(GCP_DETAILED)
    got = columns(query, GCP_DETAILED)
    assert got[1] == ("CC63-0E5B-7A3B", "Committed Use Discount", "Usage", "Commitment v1: Cpu in Americas for 1 Year",
                      None)
    assert got[2] == ("CUD-GPU-1", "Committed Use Discount", "Usage", "Committed use discount: GPU", "Used")
    assert got[3][0] is None and got[4][0] is None  # a free-tier and a discount credit are no commitment
    july = date(2025, 7, 1)
    # Google reports no unused commitment: used is the covered GPU's net cost 91.013 - 45.5065
    assert utilization(query) == [(july, "Google Cloud", "EUR", "CUD-GPU-1", "Committed use discount: GPU",
                                   Decimal("45.5065"), None, None)]
    # eligible compute: the CPU commitment's fee 100 and the covered GPU hour 45.5065, all covered
    assert coverage(query) == [(july, "Google Cloud", "EUR", Decimal("145.5065"), Decimal("145.5065"), Decimal("0"),
                                1.0)]


def test_google_flattened_credits_name_the_commitment(load_billing, query):
    load_billing(GCP_LITERALS)
    ids = query("SELECT DISTINCT CommitmentDiscountId, CommitmentDiscountCategory, CommitmentDiscountStatus FROM cost "
                "WHERE CommitmentDiscountId IS NOT NULL")
    credits = [r for r in read_csv_rows(GCP_LITERALS) if "COMMITTED_USAGE_DISCOUNT" in r.get("credits", "")]
    assert len(ids) == 1 and len(credits) == 1
    # a spend-based commitment (credit type COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE)
    assert ids[0][1:] == ("Spend", "Used") and ids[0][0] in credits[0]["credits"]


# ---- the demo's commitments, and their removal by a real load -----------------------------------------------------

@pytest.mark.slow
def test_the_demo_shows_commitments_and_a_real_load_removes_them(offline_demo, cli, query):
    demo = query("SELECT provider, count(DISTINCT commitment_id), min(utilization), max(utilization) "
                 "FROM commitment_utilization GROUP BY ALL ORDER BY ALL")
    assert [r[:2] for r in demo] == [("AWS", 1), ("Google Cloud", 1)]
    aws = demo[0]
    assert 0.80 < aws[2] <= aws[3] < 1  # 85-94 % of the commitment used (rounded amounts)
    assert query("SELECT count(*) FROM commitment_coverage WHERE coverage > 0 AND coverage < 1 "
                 "AND provider = 'AWS'")[0][0] >= 20
    load_billing_real = cli("billing", "load", str(FOCUS_1_0))
    assert load_billing_real.code == 0
    assert query("SELECT DISTINCT provider FROM commitment_month_rollup") == [("Microsoft",)]
    assert [(r[3], r[5], r[6]) for r in utilization(query)] == [
        (SP, Decimal("12.50"), Decimal("7.50")), (RI, Decimal("30.00"), Decimal("6.00"))]
    assert [r[3:6] for r in coverage(query)] == [(Decimal("56.50"), Decimal("42.50"), Decimal("14.00"))]


# ---- an existing warehouse: the commitments migration backfills ------------------------------------------------------

def test_the_migration_backfills_what_the_stored_columns_tell(load_billing, query, upgrade_from_before):
    load_billing(AWS_LEGACY, FOCUS_1_0, AZURE_PAIR / "ea_actualcost_202407.csv",
                 AZURE_PAIR / "ea_amortizedcost_202407.csv")
    loaded = utilization(query), coverage(query)
    dropped = ("CommitmentDiscountCategory", "CommitmentDiscountName", "CommitmentDiscountStatus")
    upgrade_from_before("commitments", "DROP VIEW commitment_utilization; DROP VIEW commitment_coverage; "
                        "DROP VIEW cost; DROP TABLE commitment_month_rollup; DROP MACRO ss_commitment_eligible; "
                        + "; ".join(f"ALTER TABLE cost_line DROP COLUMN {column}" for column in dropped))
    used, covered = utilization(query), coverage(query)
    # AWS and FOCUS rows get their status back from the stored columns, names only where the load gave one: none
    aws_and_focus = [r for r in loaded[0] if r[1] == "AWS" or r[0] == date(2024, 8, 1)]
    assert [r[:4] + r[5:] for r in used] == [r[:4] + r[5:] for r in aws_and_focus]
    assert {r[4] for r in used} == {r[3] for r in used}  # the name falls back to the id
    # Azure's status is not in the stored columns: its reservation rows count as covered eligible spend, the
    # unused 20.00 included, until the month is loaded again
    assert covered == sorted([r for r in loaded[1] if r[1] != "Microsoft" or r[2] == "USD"] + [
        (date(2024, 7, 1), "Microsoft", "EUR", Decimal("744.00"), Decimal("744.00"), Decimal("0"), 1.0)])
