"""The Commitments page: its queries and service on real warehouses, and the page under AppTest with the values of
the fixture rows worked out by hand (tests/billing/test_commitments.py derives them from the files)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dashboard.queries import commitments
from dashboard.queries.reader import Reader
from dashboard.services import commitments as summary
from tests.billing.test_commitments import AWS_LEGACY, AWS_RI, AWS_SP, FOCUS_1_0, RI, SP
from tests.dashboard.apptest import figures, values

AUGUST, MARCH = date(2024, 8, 1), date(2025, 3, 1)


@pytest.fixture
def loaded(load_billing, db_path):
    """A Microsoft FOCUS 1.0 month (August 2024) and an AWS CUR month (March 2025), both in USD."""
    load_billing(FOCUS_1_0, AWS_LEGACY)
    return Reader(db_path)


def test_utilization_and_coverage_queries(loaded):
    used = commitments.utilization(loaded)
    assert [m.date() for m in used["month"]] == [MARCH, MARCH, AUGUST, AUGUST]  # newest first, then by name
    assert used[["provider", "commitment_id", "currency"]].values.tolist() == [
        ["AWS", AWS_RI, "USD"], ["AWS", AWS_SP, "USD"], ["Microsoft", RI, "USD"], ["Microsoft", SP, "USD"]]
    assert used["used_cost"].tolist() == [0.116, 0.0978, 30.0, 12.5]
    assert used["unused_cost"].tolist() == [4.64, 6.56, 6.0, 7.5]
    assert used["utilization"].tolist() == pytest.approx([0.116 / 4.756, 0.0978 / 6.6578, 30 / 36, 12.5 / 20])
    assert used["commitment_name"].tolist() == [AWS_RI.split("/")[-1], AWS_SP.split("/")[-1], "RI_D4s_v5_weu",
                                                "SP_compute_1y"]
    covered = commitments.coverage(loaded)
    assert [m.date() for m in covered["month"]] == [AUGUST, MARCH]  # oldest first, for charts
    assert covered[["provider", "eligible_cost", "covered_cost", "on_demand_cost"]].values.tolist() == [
        ["Microsoft", 56.5, 42.5, 14.0], ["AWS", 0.3314, 0.2138, 0.1176]]
    assert commitments.months(loaded) == [AUGUST, MARCH]
    only_march = commitments.utilization(loaded, start=MARCH, end=MARCH)
    assert only_march["provider"].unique().tolist() == ["AWS"]
    assert commitments.coverage(loaded, start=AUGUST, end=date(2024, 12, 1))["provider"].tolist() == ["Microsoft"]


def test_totals_per_currency_never_add_currencies(loaded, load_billing):
    from tests.billing.test_commitments import AZURE_PAIR

    load_billing(AZURE_PAIR / "ea_actualcost_202407.csv", AZURE_PAIR / "ea_amortizedcost_202407.csv")  # EUR
    totals = summary.totals(commitments.utilization(loaded), commitments.coverage(loaded))
    assert [(t.currency, t.used, t.unused) for t in totals] == [
        ("EUR", Decimal("724.0"), Decimal("20.0")),
        ("USD", Decimal("30.0") + Decimal("12.5") + Decimal("0.116") + Decimal("0.0978"),
         Decimal("6.0") + Decimal("7.5") + Decimal("4.64") + Decimal("6.56"))]
    assert totals[0].utilization == pytest.approx(724 / 744) and totals[0].coverage == 1.0
    assert totals[1].coverage == pytest.approx((42.5 + 0.2138) / (56.5 + 0.3314))
    text = summary.headline(totals)
    assert text.startswith("**EUR 20.00 of commitments unused** (97.3% utilized); 100.0% of eligible compute covered.")
    assert "**USD 24.70 of commitments unused** (63.4% utilized)" in text


def test_the_page_shows_utilization_unused_cost_and_coverage(app, loaded, csvs):
    at = app("commitments")
    # by hand: unused 6 + 7.5 + 4.64 + 6.56; used 42.5 + 0.2138; covered 42.7138 of eligible 56.8314
    assert at.markdown[0].value == ("**USD 24.70 of commitments unused** (63.4% utilized); 75.2% of eligible "
                                    "compute covered.")
    assert [m.value for m in at.metric] == ["USD 24.70", "63.4%", "75.2%"]
    assert at.metric[0].label == "Unused commitment cost (USD)"
    used, covered = (frame.value for frame in at.dataframe)
    assert used["used_cost"].tolist() == [0.116, 0.0978, 30.0, 12.5]
    assert covered["coverage"].tolist() == pytest.approx([0.2138 / 0.3314, 42.5 / 56.5])  # newest first
    cost, rates, coverage = figures(at)
    assert cost["layout"]["title"]["text"] == "Commitment cost used and unused per month (USD)"
    bars = {trace["name"]: values(trace["y"]) for trace in cost["data"]}
    assert bars == {"Used: AWS": [pytest.approx(0.2138)], "Used: Microsoft": [42.5],
                    "Unused (all commitments)": [13.5, pytest.approx(11.2)]}  # Aug 2024: 6 + 7.5
    colors = {trace["name"]: trace["marker"]["color"] for trace in cost["data"]}
    assert colors == {"Used: AWS": "#E69F00", "Used: Microsoft": "#0072B2", "Unused (all commitments)": "#d62728"}
    lines = {trace["name"]: values(trace["y"]) for trace in rates["data"]}
    assert lines["RI_D4s_v5_weu (Microsoft, USD)"] == pytest.approx([100 * 30 / 36])
    shares = {trace["name"]: values(trace["y"]) for trace in coverage["data"]}
    assert shares == {"AWS": pytest.approx([100 * 0.2138 / 0.3314]), "Microsoft": pytest.approx([100 * 42.5 / 56.5])}
    assert set(csvs) >= {"commitment utilization", "commitment coverage"}


def test_on_demand_compute_alone_is_zero_coverage_and_no_utilization(app, load_billing, tmp_path):
    from tests.billing.test_loader import HEADER, focus_row, write

    load_billing(write(tmp_path / "gpu.csv", HEADER, focus_row("5.00", "2025-06-01")))  # Compute, no pricing given
    at = app("commitments")
    assert any(info.value == "No commitment was used or left unused in these months." for info in at.info)
    [covered] = (frame.value for frame in at.dataframe)
    assert covered[["provider", "eligible_cost", "covered_cost", "coverage"]].values.tolist() == [
        ["CoreWeave", 5.0, 0.0, 0.0]]
    assert at.markdown[0].value == "USD: no unused commitment reported; 0.0% of eligible compute covered."


def test_a_warehouse_without_commitment_rows_says_so(app, load_billing, tmp_path):
    from tests.billing.test_loader import HEADER, focus_row, write

    storage = focus_row("5.00", "2025-06-01", service="Object storage").removesuffix(",Compute") + ",Storage"
    load_billing(write(tmp_path / "storage.csv", HEADER, storage))
    at = app("commitments")
    assert any("No commitment and no commitment-eligible compute spend" in info.value for info in at.info)
