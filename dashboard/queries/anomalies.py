"""Spend anomalies as ``python -m etl anomalies run`` stored them (table ``spend_anomalies``; never computed here),
with the catalog events of their provider announced within a few days, and the marks of the Overview's chart.

An event belongs to a provider as in :mod:`dashboard.queries.events` (named, or through one of its tickers); an
anomaly of the level ``total`` has every provider's events beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard.queries.events import _event_providers_sql, _mapping_params
from dashboard.queries.reader import Reader
from dashboard.queries.spend import GRAINS, MEASURES, SpendFilter

LEVEL_LABELS = {"total": "All providers", "provider": "Provider", "service": "Service", "account": "Billing account"}
SEVERITIES = ("high", "medium", "low")
EVENT_DAYS = 3
"""Events announced this many days before or after an anomaly are listed beside it."""

_SERIES = """CASE level WHEN 'total' THEN 'All providers' WHEN 'provider' THEN provider
                        ELSE provider || ' / ' || coalesce(member_name, member) END"""


@dataclass(frozen=True)
class AnomalyFilter:
    """What the Anomalies page lists; empty tuples mean "all". Frozen and hashable: a cache key as it is."""

    start: date
    end: date
    basis: str = "reporting"
    providers: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnomalyRun:
    """The latest stored run (None fields when no run is stored yet) and the stored anomalies' date range."""

    run_id: int | None
    finished_at: object
    measure: str | None
    window_start: date | None
    data_until: date | None
    series_scored: int
    series_skipped: int
    days_scored: int
    first_day: date | None
    last_day: date | None
    providers: tuple[str, ...]


def latest_run(reader: Reader) -> AnomalyRun:
    """The latest run's facts and what the filters offer."""
    row = reader.row(
        """
        SELECT r.run_id, r.finished_at, r.measure, r.window_start, r.data_until, r.series_scored, r.series_skipped,
               r.days_scored, (SELECT min(date) FROM spend_anomalies), (SELECT max(date) FROM spend_anomalies),
               (SELECT list(DISTINCT provider ORDER BY provider) FILTER (provider <> '') FROM spend_anomalies)
        FROM (SELECT 1) LEFT JOIN (SELECT * FROM anomaly_runs ORDER BY run_id DESC LIMIT 1) r ON true
        """)
    run_id, finished, measure, start, until, scored, skipped, days, first, last, providers = row
    return AnomalyRun(run_id, finished, measure, start, until, scored or 0, skipped or 0, days or 0, first, last,
                      tuple(providers or ()))


def anomaly_list(reader: Reader, flt: AnomalyFilter, tickers: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """The stored anomalies ``flt`` selects, newest first and largest first within a day: date, series, level
    (label), currency, actual, expected, expected_low, expected_high (the interval), excess, excess_pct, z,
    severity, and ``events``: the
    provider's catalog events within :data:`EVENT_DAYS` days (``YYYY-MM-DD: headline``, nearest first)."""
    return reader.frame(
        f"""
        WITH a AS (
            SELECT * FROM spend_anomalies
            WHERE date BETWEEN $start AND $end AND basis = $basis
              AND (len($providers) = 0 OR list_contains($providers, provider))
              AND (len($levels) = 0 OR list_contains($levels, level))
              AND (len($severities) = 0 OR list_contains($severities, severity))
        ),
        ep AS ({_event_providers_sql()}),
        near AS (
            SELECT a.date, a.level, a.basis, a.currency, a.provider, a.member,
                   string_agg(DISTINCT strftime(CAST(ep.announced_at AS DATE), '%Y-%m-%d') || ': ' || ep.headline,
                              '; ') AS events
            FROM a JOIN ep ON (a.provider = '' OR ep.provider = a.provider)
                 AND abs(datediff('day', a.date, CAST(ep.announced_at AS DATE))) <= {EVENT_DAYS}
            GROUP BY ALL
        )
        SELECT a.date, {_SERIES} AS series, a.level, a.currency, a.actual, a.expected, a.lower AS expected_low,
               a.upper AS expected_high, a.excess,
               a.excess_pct, a.z, a.severity, near.events
        FROM a LEFT JOIN near USING (date, level, basis, currency, provider, member)
        ORDER BY a.date DESC, a.excess DESC
        """,
        {"start": flt.start, "end": flt.end, "basis": flt.basis, "providers": list(flt.providers),
         "levels": list(flt.levels), "severities": list(flt.severities)} | _mapping_params(tickers),
    ).assign(level=lambda f: f["level"].map(LEVEL_LABELS))


def chart_marks(reader: Reader, flt: SpendFilter, grain: str) -> pd.DataFrame:
    """The anomalies of the Overview's spend chart: in its currency and cost basis, of the level ``total`` (only
    without a provider filter) and ``provider`` (of the filtered providers), from ``flt.start`` to ``flt.end``.
    Columns period (the chart's ``grain``), date, series, actual, expected, excess, excess_pct, severity."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    return reader.frame(
        f"""
        SELECT date_trunc('{grain}', date)::DATE AS period, date, {_SERIES} AS series, actual, expected, excess,
               excess_pct, severity
        FROM spend_anomalies
        WHERE basis = 'reporting' AND currency = $cur AND measure = $measure AND date BETWEEN $start AND $end
          AND ((level = 'total' AND len($providers) = 0)
               OR (level = 'provider' AND (len($providers) = 0 OR list_contains($providers, provider))))
        ORDER BY date, excess DESC
        """,
        {"cur": flt.currency.upper(), "measure": MEASURES[flt.measure], "start": flt.start, "end": flt.end,
         "providers": list(flt.providers)},
    )
