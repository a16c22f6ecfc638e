"""Data health: how fresh each feed is, which loads failed, and why."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.queries.reader import Reader


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
    """Sources whose most recent load attempt failed, with the error a user can act on."""
    return reader.frame(
        """
        SELECT kind, source, format, error, finished_at AS failed_at,
               (SELECT max(ok.finished_at) FROM load_log ok
                WHERE ok.kind = l.kind AND ok.source = l.source AND ok.status <> 'failed') AS last_success
        FROM load_log l
        QUALIFY row_number() OVER (PARTITION BY kind, source ORDER BY load_id DESC) = 1 AND status = 'failed'
        ORDER BY failed_at DESC
        """
    )


def recent_loads(reader: Reader, limit: int = 50) -> pd.DataFrame:
    return reader.frame(
        """
        SELECT load_id, kind, source, format, dataset, rows, status, coalesce(error, message) AS detail,
               started_at, finished_at
        FROM load_log ORDER BY load_id DESC LIMIT ?
        """,
        [limit],
    )
