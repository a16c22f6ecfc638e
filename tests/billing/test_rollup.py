"""The daily rollup behind ``daily_spend``: recomputed for exactly the days a write touched."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from etl.billing import rollup
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import FIXTURES


def by_day(query) -> list[tuple]:
    return query("SELECT date, provider, currency, sum(billed_cost), sum(effective_cost), sum(rows)::INTEGER "
                 "FROM daily_spend GROUP BY ALL ORDER BY ALL")


def from_cost(query) -> list[tuple]:
    return query("SELECT ChargePeriodStart::DATE, ServiceProviderName, BillingCurrency, sum(BilledCost), "
                 "sum(EffectiveCost), count(*)::INTEGER FROM cost GROUP BY ALL ORDER BY ALL")


def test_the_rollup_follows_replacements_day_by_day(load_billing, query, tmp_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"),
                       focus_row("5.00", "2025-06-02")))
    load_billing(write(tmp_path / "june-v2.csv", HEADER, focus_row("7.00", "2025-06-02")))
    assert by_day(query) == from_cost(query) == [
        (date(2025, 6, 2), "CoreWeave", "USD", Decimal("7.00"), Decimal("7.00"), 1)]  # 06-01 gone with its period


def test_days_an_adapter_step_changes_are_refreshed_too(load_billing, query):
    """Azure's after_load zeroes measures of the other dataset's rows: their days must be recomputed."""
    pair = FIXTURES / "billing" / "azure" / "pair"
    load_billing(pair / "ea_actualcost_202407.csv")
    load_billing(pair / "ea_amortizedcost_202407.csv")
    assert by_day(query) == from_cost(query)


def test_refresh_touches_only_the_marked_days(warehouse, load_billing, query, tmp_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"),
                       focus_row("5.00", "2025-06-02")))
    with warehouse.write("test") as session:
        con = session.con
        rollup.start(con)
        assert rollup.refresh(session) == 0  # nothing marked: nothing recomputed
        with session.transaction():
            con.execute("UPDATE cost_line SET BilledCost = 99 WHERE ChargePeriodStart::DATE = '2025-06-02'")
            con.execute("UPDATE cost_line SET BilledCost = 42 WHERE ChargePeriodStart::DATE = '2025-06-01'")
        rollup.mark_touched(con, "SELECT 'CoreWeave', 'A1', DATE '2025-06-02'")
        assert rollup.refresh(session) == 1
    assert query("SELECT date, billed_cost FROM daily_spend ORDER BY date") == [
        (date(2025, 6, 1), Decimal("10.00")), (date(2025, 6, 2), Decimal("99"))]
