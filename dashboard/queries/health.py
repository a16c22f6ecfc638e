"""Data health: how fresh each feed's data is, which failed loads are open, and why.

Freshness, failures and recent loads are the functions ``python -m etl status`` prints (``etl.freshness``, and
``etl.status`` over the views ``load_failures`` and ``load_history``), so the page and the command never disagree.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from dashboard.queries.reader import Reader
from etl import freshness, status
from etl.freshness import Freshness


def billing_feeds(reader: Reader, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per provider, billing account and currency: rows and totals (from the daily rollup), then the
    account's freshness by data (``etl.freshness.billing``: data_until, days_behind, lag_days, stale) and its last
    successful load. ``now`` is naive UTC."""

    def read(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        spend = con.execute(
            """
            SELECT provider, billing_account_id AS account, currency, sum(rows)::BIGINT AS rows,
                   sum(billed_cost) AS billed_cost, sum(effective_cost) AS effective_cost
            FROM daily_spend GROUP BY ALL
            """
        ).df()
        fresh = freshness.billing(con, now, settings).drop(columns=["rows"])
        return fresh.merge(spend, on=["provider", "account"]).sort_values(["provider", "account", "currency"])

    columns = ["provider", "account", "account_name", "currency", "rows", "billed_cost", "effective_cost",
               "first_day", "last_day", "data_until", "days_behind", "lag_days", "stale", "last_load"]
    return reader.using(read)[columns].reset_index(drop=True)


def failures(reader: Reader) -> pd.DataFrame:
    """Every failed load, newest first, with its state (open, resolved, dismissed) as ``status`` reads them:
    load_id, kind, source, format, error, failed_at, state, resolved_by, dismissed_by, dismissed_at,
    dismiss_reason."""
    return reader.using(lambda con: status.failures(con).df())


def recent_loads(reader: Reader, limit: int = 50) -> pd.DataFrame:
    """The latest load attempts, newest first (as ``status`` lists them), with the error or message as detail."""
    return reader.using(lambda con: status.recent_loads(con, limit).df())


def price_feeds(reader: Reader, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per ticker with its freshness against its exchange's closed sessions (``etl.freshness.prices``)."""
    return reader.using(lambda con: freshness.prices(con, now, settings))


def fx_feeds(reader: Reader, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per FX pair with its latest rate and freshness (``etl.freshness.fx``)."""
    return reader.using(lambda con: freshness.fx(con, now, settings))


def fx_coverage(reader: Reader, currency: str, max_age_days: int) -> pd.DataFrame:
    """Spend that cannot be shown in ``currency``, per billing currency: cost rows, billed and effective
    amounts (in that currency), first and last charge date, days affected, and the latest reason (fx_issue).
    Reads the daily rollup; empty when every row converts."""
    return reader.frame(
        """
        SELECT currency, sum(rows)::BIGINT AS rows, sum(billed_cost) AS billed_cost,
               sum(effective_cost) AS effective_cost, min(date) AS first_day, max(date) AS last_day,
               count(DISTINCT date) AS days, arg_max(fx_issue, date) AS fx_issue
        FROM daily_spend_in_currency($cur, max_age_days := $age)
        WHERE fx_missing GROUP BY currency ORDER BY currency
        """,
        {"cur": currency.upper(), "age": max_age_days},
    )
