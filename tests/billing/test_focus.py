"""FOCUS adapter on the project's own FOCUS 1.2 and 1.3 files."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import FIXTURES

FOCUS_DIR = FIXTURES / "billing" / "focus"


def test_focus_values_are_normalised_and_typed(load_billing, query):
    load_billing(FOCUS_DIR / "focus_1_2_two_providers.csv")
    rows = query(
        """
        SELECT BillingAccountId, ServiceProviderName, ChargeFrequency, ChargeClass, ServiceCategory,
               ChargePeriodStart, Tags->>'team', ConsumedQuantity, x_SourceLine, typeof(BilledCost)
        FROM cost ORDER BY x_SourceLine
        """
    )
    assert rows[0][:5] == ("0042", "CoreWeave", "Usage-Based", None, "Compute")  # leading zeros kept
    assert rows[1][2] == "Usage-Based"  # 'Usage-based' normalised
    assert rows[2][3] == "Correction"
    assert str(rows[3][5]) == "2025-06-10 00:00:00"  # 'YYYY-MM-DD HH:MM:SS' read as UTC
    assert rows[0][6] == "research"
    assert rows[1][7] == Decimal("1024.5")
    assert [r[8] for r in rows] == [2, 3, 4, 5, 6]
    assert rows[0][9] == "DECIMAL(38,12)"


def test_focus_1_3_column_names_are_accepted(load_billing, query):
    [result] = load_billing(FOCUS_DIR / "focus_1_3_renames.csv")
    assert result.status == "loaded", result.error
    assert query("SELECT DISTINCT ServiceProviderName FROM cost") == [("CoreWeave",)]


def test_daily_spend_reconciles_with_cost(load_billing, query):
    load_billing(FOCUS_DIR / "focus_1_2_two_providers.csv")
    by_cost = query("SELECT ChargePeriodStart::DATE, ServiceProviderName, BillingCurrency, sum(BilledCost) "
                    "FROM cost GROUP BY ALL ORDER BY ALL")
    by_daily = query("SELECT date, provider, currency, sum(billed_cost) FROM daily_spend GROUP BY ALL ORDER BY ALL")
    assert by_cost == by_daily
