"""Data health: how fresh each feed is, which loads failed, and why.

Failing sources and recent loads are the functions ``python -m etl status`` prints (views ``source_status`` and
``load_history``), so the page and the command never disagree.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.queries.reader import Reader
from etl import status


def billing_feeds(reader: Reader, now: datetime, stale_after_hours: float) -> pd.DataFrame:
    """One row per provider, billing account and currency: last successful load, data coverage, totals.

    ``stale`` is true when the last successful load is older than ``stale_after_hours`` (exports are expected
    daily); ``now`` is naive UTC.
    """
    return reader.frame(
        """
        WITH loads AS (
            SELECT u.s.provider AS provider, u.s.account AS account, max(l.finished_at) AS last_load,
                   count(DISTINCT l.source) AS sources
            FROM load_log l, unnest(l.scope) AS u(s)
            WHERE l.kind = 'billing' AND l.status IN ('loaded', 'unchanged')
            GROUP BY ALL
        ), spend AS (
            SELECT provider, billing_account_id AS account, any_value(billing_account_name) AS account_name,
                   currency, sum(rows)::BIGINT AS rows, sum(billed_cost) AS billed_cost,
                   sum(effective_cost) AS effective_cost, min(date) AS first_day, max(date) AS last_day
            FROM daily_spend GROUP BY ALL
        )
        SELECT s.provider, s.account, s.account_name, s.currency, s.rows, s.billed_cost, s.effective_cost,
               s.first_day, s.last_day, l.sources, l.last_load,
               round(date_diff('second', l.last_load, $now) / 3600, 1) AS hours_since_load,
               coalesce(date_diff('second', l.last_load, $now) / 3600 > $limit, true) AS stale
        FROM spend s LEFT JOIN loads l USING (provider, account)
        ORDER BY s.provider, s.account, s.currency
        """,
        {"now": now, "limit": stale_after_hours},
    )


def failing_sources(reader: Reader) -> pd.DataFrame:
    """Sources whose most recent load attempt failed, with the error a user can act on (as ``status`` lists
    them): kind, source, format, error, failed_at, last_success."""
    return reader.using(lambda con: status.failing_sources(con).df())


def recent_loads(reader: Reader, limit: int = 50) -> pd.DataFrame:
    """The latest load attempts, newest first (as ``status`` lists them), with the error or message as detail."""
    return reader.using(lambda con: status.recent_loads(con, limit).df())


def price_feeds(reader: Reader, now: datetime, stale_after_hours: float) -> pd.DataFrame:
    """One row per ticker: first and last session, rows, when its rows were last written and by which load, and
    whether it is stale: more than ``stale_after_hours`` since the end (24:00 UTC) of its last session."""
    return reader.frame(
        """
        WITH loads AS (
            SELECT source AS ticker, max(finished_at) AS last_load FROM load_log
            WHERE kind = 'prices' AND status IN ('loaded', 'unchanged') GROUP BY 1
        )
        SELECT p.ticker, any_value(p.exchange) AS exchange, any_value(p.currency) AS currency,
               min(p.date) AS first_session, max(p.date) AS last_session, count(*) AS rows,
               max(p.loaded_at) AS loaded_at, greatest(max(p.loaded_at), any_value(l.last_load)) AS last_load,
               round(date_diff('second', (max(p.date) + 1)::TIMESTAMP, $now) / 3600, 1) AS hours_since_session,
               date_diff('second', (max(p.date) + 1)::TIMESTAMP, $now) / 3600 > $limit AS stale
        FROM prices p LEFT JOIN loads l USING (ticker)
        GROUP BY p.ticker ORDER BY p.ticker
        """,
        {"now": now, "limit": stale_after_hours},
    )


def fx_feeds(reader: Reader, now: datetime, stale_after_hours: float) -> pd.DataFrame:
    """One row per FX pair (currency against its quote currency): first and last rate date, rows, latest rate,
    source, when last written, and whether it is stale (more than ``stale_after_hours`` since the end of the
    day of its latest rate)."""
    return reader.frame(
        """
        SELECT currency || quote_currency AS pair, currency, quote_currency, min(date) AS first_date,
               max(date) AS last_date, count(*) AS rows, arg_max(rate, date)::DOUBLE AS last_rate,
               arg_max(source, date) AS source, max(loaded_at) AS loaded_at,
               round(date_diff('second', (max(date) + 1)::TIMESTAMP, $now) / 3600, 1) AS hours_since_rate,
               date_diff('second', (max(date) + 1)::TIMESTAMP, $now) / 3600 > $limit AS stale
        FROM fx_rates GROUP BY currency, quote_currency ORDER BY currency, quote_currency
        """,
        {"now": now, "limit": stale_after_hours},
    )


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
