"""Commitments: utilization per commitment and month, coverage per provider and month (the Commitments page).

Both read the views over ``commitment_month_rollup`` (``commitment_utilization``, ``commitment_coverage``), a small
monthly rollup the loader keeps current, so no query aggregates cost rows. Amounts stay in their billing currency:
every row carries its ``currency`` and nothing here adds currencies together.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.queries.reader import Reader


def utilization(reader: Reader, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """One row per commitment and month from ``start`` to ``end`` (months, inclusive; None = all): month,
    provider, billing_account_id, commitment_name, commitment_type, commitment_category, commitment_id, currency,
    used_cost, unused_cost and utilization (a fraction; unused and utilization are NULL where the provider's export
    reports no unused part, Google's). Newest month first, then provider and name."""
    return reader.frame(
        """
        SELECT month, provider, billing_account_id, commitment_name, commitment_type, commitment_category,
               commitment_id, currency, used_cost, unused_cost, utilization
        FROM commitment_utilization
        WHERE ($start IS NULL OR month >= $start) AND ($end IS NULL OR month <= $end)
        ORDER BY month DESC, provider, commitment_name, commitment_id, currency
        """,
        {"start": start, "end": end},
    )


def coverage(reader: Reader, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """One row per provider, billing currency and month from ``start`` to ``end``: eligible_cost (usage of
    ServiceCategory Compute priced on demand or by a commitment), covered_cost, on_demand_cost and coverage (a
    fraction). Oldest month first, for charts."""
    return reader.frame(
        """
        SELECT month, provider, currency, eligible_cost, covered_cost, on_demand_cost, coverage
        FROM commitment_coverage
        WHERE ($start IS NULL OR month >= $start) AND ($end IS NULL OR month <= $end)
        ORDER BY month, provider, currency
        """,
        {"start": start, "end": end},
    )


def months(reader: Reader) -> list[date]:
    """Every month that has commitment or eligible rows, oldest first (the page's range choices)."""
    frame = reader.frame("SELECT DISTINCT month FROM commitment_month_rollup ORDER BY month")
    return [pd.Timestamp(m).date() for m in frame["month"]]
