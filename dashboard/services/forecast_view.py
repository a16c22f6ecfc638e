"""Which stored forecast answers a filtered view of spend. No Streamlit, no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd


def forecast_series(providers: Sequence[str], *, narrowed: bool) -> str | None:
    """The stored series that matches the filters: ``""`` (the total) without a provider filter, the provider when
    one is picked; None when the view is a sum no forecast covers (several providers, or ``narrowed`` to accounts,
    categories or a tag): the interval of such a sum is not the sum of stored intervals."""
    if narrowed or len(providers) > 1:
        return None
    return providers[0] if providers else ""


def shows_forecast(totals: pd.DataFrame, end: date) -> bool:
    """Whether a view ending on ``end`` reaches the forecast's as-of date (an earlier range is history only)."""
    return not totals.empty and end >= pd.Timestamp(totals["as_of"].min()).date()
