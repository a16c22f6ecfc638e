"""Calendar periods of the dashboard: the ones the Overview's top movers compare (the last full month or
quarter, or the last N days, each against the one before), and the chart periods a date range covers only in
part (so a chart marks them instead of drawing their short sum as a drop)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class PartialPeriod:
    """A chart period (``day``/``week``/``month`` bucket starting at ``start``) of which only ``covered`` of
    its ``days`` lie in the range drawn."""

    start: date
    covered: int
    days: int

    @property
    def note(self) -> str:
        return f"partial: {self.covered} of {self.days} days"


def period_start(day: date, grain: str) -> date:
    """The first day of ``day``'s period, as SQL's ``date_trunc(grain, day)`` (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}; expected day, week or month")


def _period_end(first: date, grain: str) -> date:
    if grain == "week":
        return first + timedelta(days=6)
    if grain == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first


def partial_periods(start: date, end: date, grain: str) -> dict[date, PartialPeriod]:
    """The periods of ``grain`` that the inclusive range ``start``–``end`` does not cover in full, by their
    first day: at most the first and the last (a day is never partial). ``start``/``end`` are the range drawn,
    i.e. the chosen range already clipped to the loaded data."""
    partial = {}
    for first in dict.fromkeys((period_start(start, grain), period_start(end, grain))):
        last = _period_end(first, grain)
        covered = (min(last, end) - max(first, start)).days + 1
        days = (last - first).days + 1
        if covered < days:
            partial[first] = PartialPeriod(first, covered, days)
    return partial
