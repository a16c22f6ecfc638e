"""The periods the Overview's top movers compare: the last full month or quarter, or the last N days, each
against the one before."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard.queries.spend import Period

MOVER_PERIODS = {"month": "Last full month vs the month before", "quarter": "Last full quarter vs the quarter before",
                 "30d": "Last 30 days vs the 30 days before", "7d": "Last 7 days vs the 7 days before"}


def mover_periods(as_of: date, kind: str = "month") -> tuple[Period, Period]:
    """(current, previous) periods, inclusive, for a comparison ending at ``as_of``.

    ``month``/``quarter``: the last *full* month (quarter) on or before as_of and the one before it;
    ``30d``/``7d``: the N days ending at as_of and the N days before them.
    """
    if kind in ("30d", "7d"):
        days = int(kind[:-1])
        current = (as_of - timedelta(days=days - 1), as_of)
        return current, (current[0] - timedelta(days=days), current[0] - timedelta(days=1))
    if kind == "month":
        end = as_of if (as_of + timedelta(days=1)).day == 1 else as_of.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
        previous_end = start - timedelta(days=1)
        return (start, end), (previous_end.replace(day=1), previous_end)
    if kind == "quarter":
        def quarter_start(day: date) -> date:
            return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)

        next_day = as_of + timedelta(days=1)
        end = as_of if quarter_start(next_day) == next_day else quarter_start(as_of) - timedelta(days=1)
        start = quarter_start(end)
        previous_end = start - timedelta(days=1)
        return (start, end), (quarter_start(previous_end), previous_end)
    raise ValueError(f"unknown comparison {kind!r}; expected one of {sorted(MOVER_PERIODS)}")
