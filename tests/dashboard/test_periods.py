"""dashboard.services.periods: the top movers' periods, last full month or quarter, or the last N days."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.services.periods import mover_periods, partial_periods


@pytest.mark.parametrize(("as_of", "kind", "current", "previous"), [
    (date(2025, 6, 30), "month", (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 1), date(2025, 5, 31))),
    (date(2025, 6, 15), "month", (date(2025, 5, 1), date(2025, 5, 31)), (date(2025, 4, 1), date(2025, 4, 30))),
    (date(2025, 3, 31), "month", (date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 2, 1), date(2025, 2, 28))),
    (date(2025, 6, 30), "quarter", (date(2025, 4, 1), date(2025, 6, 30)), (date(2025, 1, 1), date(2025, 3, 31))),
    (date(2025, 6, 29), "quarter", (date(2025, 1, 1), date(2025, 3, 31)), (date(2024, 10, 1), date(2024, 12, 31))),
    (date(2025, 6, 30), "30d", (date(2025, 6, 1), date(2025, 6, 30)), (date(2025, 5, 2), date(2025, 5, 31))),
    (date(2025, 6, 30), "7d", (date(2025, 6, 24), date(2025, 6, 30)), (date(2025, 6, 17), date(2025, 6, 23))),
])
def test_mover_periods(as_of, kind, current, previous):
    assert mover_periods(as_of, kind) == (current, previous)


def test_an_unknown_comparison_is_refused():
    with pytest.raises(ValueError, match="unknown comparison 'year'"):
        mover_periods(date(2025, 6, 30), "year")


@pytest.mark.parametrize(("start", "end", "grain", "partial"), [
    # 2025-06-12 is a Thursday: its month has 12 of 30 days, the last month 17 of 31 (July 1-17).
    (date(2025, 6, 19), date(2025, 7, 17), "month", {date(2025, 6, 1): (12, 30), date(2025, 7, 1): (17, 31)}),
    (date(2025, 6, 1), date(2025, 7, 31), "month", {}),
    (date(2024, 2, 10), date(2024, 2, 29), "month", {date(2024, 2, 1): (20, 29)}),  # leap February, one period
    # Weeks start on Monday: Thu 2025-06-19 covers Thu-Sun (4 of 7); Tue 2025-07-01 covers Mon-Tue (2 of 7).
    (date(2025, 6, 19), date(2025, 7, 1), "week", {date(2025, 6, 16): (4, 7), date(2025, 6, 30): (2, 7)}),
    (date(2025, 6, 16), date(2025, 6, 29), "week", {}),
    (date(2025, 6, 19), date(2025, 7, 1), "day", {}),
])
def test_partial_periods(start, end, grain, partial):
    found = partial_periods(start, end, grain)
    assert {first: (p.covered, p.days) for first, p in found.items()} == partial
    assert all(p.start == first for first, p in found.items())


def test_a_partial_period_says_how_much_of_it_is_drawn():
    assert partial_periods(date(2025, 6, 19), date(2025, 6, 30), "month")[date(2025, 6, 1)].note == \
        "partial: 12 of 30 days"
