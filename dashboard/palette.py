"""One colour per cloud provider, the same on every chart and page.

The colours are the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable with the
common forms of colour blindness. The keys are the FOCUS ``ProviderName`` values the loaders write. A provider
not in the map gets the next colour of :data:`SPARE`, in the order of its name among the unknown providers
drawn, so the same set of providers always gets the same colours whatever order the data comes in.
No Streamlit here: ``dashboard.charts`` uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

PROVIDER_COLORS = {
    "AWS": "#E69F00",  # orange
    "Microsoft": "#0072B2",  # blue
    "Google Cloud": "#009E73",  # bluish green
    "Oracle": "#D55E00",  # vermillion
    "CoreWeave": "#CC79A7",  # reddish purple
}
SPARE = ("#56B4E9", "#F0E442", "#999999")  # sky blue, yellow, grey: for unknown providers
NEUTRAL = "#5F6B7A"  # bars that are not per provider (service, category): no provider's colour
STOCK_LINE = "#000000"  # a stock line drawn over a provider's spend bars: black stands out against them all


def provider_colors(providers: Iterable[str]) -> dict[str, str]:
    """Provider -> colour for every provider of ``providers``: the fixed colour of a known one; the unknown ones,
    sorted by name, take the spare colours in turn (cycling when there are more of them than spare colours)."""
    names = list(dict.fromkeys(providers))
    unknown = sorted(p for p in names if p not in PROVIDER_COLORS)
    spare = {p: SPARE[i % len(SPARE)] for i, p in enumerate(unknown)}
    return {p: PROVIDER_COLORS.get(p) or spare[p] for p in names}
TICKER_SEQUENCE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")  # the lines of one CAR chart


def translucent(color: str, alpha: float = 0.15) -> str:
    """``#RRGGBB`` as ``rgba(...)`` with ``alpha``: a band's fill in its line's colour."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
