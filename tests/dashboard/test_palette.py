"""One colour per provider: the fixed map, the spare colours of unknown providers, and the same colour for the
same provider on every page's figures."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.palette import PROVIDER_COLORS, SPARE, provider_colors, translucent
from tests.dashboard.apptest import figures


def test_known_providers_keep_their_colour_whatever_else_is_drawn():
    alone = provider_colors(["Google Cloud"])
    crowded = provider_colors(["Acme Cloud", "CoreWeave", "Google Cloud", "AWS"])
    assert alone["Google Cloud"] == crowded["Google Cloud"] == PROVIDER_COLORS["Google Cloud"]
    assert len(set(PROVIDER_COLORS.values())) == len(PROVIDER_COLORS)


def test_unknown_providers_take_the_spare_colours_in_name_order():
    colors = provider_colors(["Zeta Cloud", "AWS", "Alpha Cloud"])
    assert (colors["Alpha Cloud"], colors["Zeta Cloud"]) == SPARE[:2]
    assert provider_colors(["Alpha Cloud", "Zeta Cloud"]) == {"Alpha Cloud": SPARE[0], "Zeta Cloud": SPARE[1]}
    assert not set(SPARE) & set(PROVIDER_COLORS.values())


def test_stacked_bars_colour_providers_not_other_dimensions():
    frame = pd.DataFrame({"period": pd.to_datetime(["2025-05-01"] * 3), "provider": ["Oracle", "AWS", "Nimbus"],
                          "service": ["a", "b", "c"], "amount": [1.0, 2.0, 3.0]})
    fig = charts.stacked_spend(frame, "provider", "month", "USD", "effective")
    assert {t.name: t.marker.color for t in fig.data} == {"Oracle": "#D55E00", "AWS": "#E69F00", "Nimbus": SPARE[0]}
    assert {t.marker.color for t in charts.stacked_spend(frame, "service", "month", "USD", "effective").data} == {None}


def _bar_colours(figure: dict) -> dict[str, str]:
    """Provider -> colour of its spend bars, in a figure read from an AppTest (stacked bars are named after the
    provider; small multiples carry it in ``meta``; the one-provider chart names its bars '<provider> spend')."""
    found = {}
    for trace in figure["data"]:
        if trace.get("type") == "bar" and "color" in trace.get("marker", {}):
            name = trace.get("meta") or trace["name"].removesuffix(" spend")
            found[name] = trace["marker"]["color"]
    return found


def test_a_provider_has_the_same_colour_on_the_overview_and_on_spend_vs_market(app, spend_db):
    over_time = _bar_colours(figures(app("overview"))[0])
    one, grid = (_bar_colours(f) for f in figures(app("spend_vs_market"))[:2])
    assert over_time == {"CoreWeave": "#CC79A7", "Google Cloud": "#009E73", "Microsoft": "#0072B2"}
    assert one == {"CoreWeave": over_time["CoreWeave"]}
    assert grid == over_time


def test_a_band_is_its_line_colour_made_translucent():
    assert translucent("#0072B2") == "rgba(0,114,178,0.15)"
    assert translucent("#D55E00", 0.3) == "rgba(213,94,0,0.3)"
