"""dashboard.services.periods: the top movers' periods, last full month or quarter, or the last N days."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.services.periods import mover_periods


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
