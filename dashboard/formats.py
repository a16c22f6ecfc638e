"""How the dashboard writes amounts in prose (KPI tiles, captions, headline sentences).

No Streamlit here: ``dashboard.ui.widgets`` and ``dashboard.services.headlines`` both use it, so a headline's
total is written exactly as the page's figures are.
"""

from __future__ import annotations


def money(amount: object, currency: str) -> str:
    """An exact amount, to the cent: ``USD 12,345.67``."""
    return f"{currency} {float(amount):,.2f}"  # type: ignore[arg-type]


def money_short(amount: object, currency: str) -> str:
    """An amount short enough for a KPI tile: ``USD 12,346``, ``USD 4.10M``, ``USD 1.25B``."""
    value = float(amount)  # type: ignore[arg-type]
    for limit, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= limit:
            return f"{currency} {value / limit:,.2f}{suffix}"
    return f"{currency} {value:,.0f}"


def percent(share: object) -> str:
    """A fraction as a percentage to one decimal (``62.3%``); ``–`` when there is none (None or NaN)."""
    if share is None or share != share:  # NaN is the one value unequal to itself
        return "–"
    return f"{float(share):.1%}"  # type: ignore[arg-type]
