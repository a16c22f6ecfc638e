"""dashboard.charts: titles, axis titles with units and currency, and trace data equal to the input frames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard import charts
from dashboard.services.periods import partial_periods
from dashboard.services.stock_lines import StockLine


@pytest.fixture
def over_time() -> pd.DataFrame:
    return pd.DataFrame({"period": pd.to_datetime(["2025-05-01", "2025-05-01", "2025-06-01", "2025-06-01"]),
                         "provider": ["AWS", "Oracle", "AWS", "Oracle"], "amount": [10.0, 5.0, 12.0, 4.0]})


def test_stacked_spend(over_time):
    fig = charts.stacked_spend(over_time, "provider", "month", "EUR", "effective")
    assert fig.layout.title.text == "Monthly effective cost per provider (EUR)"
    assert fig.layout.yaxis.title.text == "Effective cost (EUR)"
    assert fig.layout.xaxis.title.text == "Month"
    assert fig.layout.barmode == "relative"  # stacked, credits below zero
    assert [(t.name, list(t.y)) for t in fig.data] == [("AWS", [10.0, 12.0]), ("Oracle", [5.0, 4.0])]
    assert list(fig.data[0].x) == list(over_time["period"][:1]) + list(over_time["period"][2:3])
    assert "EUR" in fig.data[0].hovertemplate


def test_spend_bars():
    frame = pd.DataFrame({"service_category": ["Compute", "Storage"], "amount": [30.0, 10.0], "share": [0.75, 0.25]})
    fig = charts.spend_bars(frame, "service_category", "USD", "billed", "Billed cost by service category")
    assert fig.layout.title.text == "Billed cost by service category (USD)"
    assert fig.layout.xaxis.title.text == "Billed cost (USD)"
    assert fig.layout.yaxis.title.text == "Service category"
    assert (list(fig.data[0].y), list(fig.data[0].x)) == (["Compute", "Storage"], [30.0, 10.0])
    assert charts.figure_frame(fig)[["x", "y", "axis"]].values.tolist() == [
        ["Compute", 30.0, "Billed cost (USD)"], ["Storage", 10.0, "Billed cost (USD)"]]


def line(view: str, unit: str = "%") -> StockLine:
    frame = pd.DataFrame({"date": pd.to_datetime(["2025-05-01", "2025-05-02"]), "value": [1.5, -0.5]})
    label = {"price": "MSFT close", "return": "MSFT cumulative return", "car": "MSFT CAR vs SPY"}[view]
    return StockLine("MSFT", view, frame, unit, label)


@pytest.mark.parametrize(("view", "unit", "axis"), [
    ("price", "USD", "MSFT close (USD)"),
    ("return", "%", "MSFT cumulative return (%)"),
    ("car", "%", "MSFT CAR vs SPY (%)"),
])
def test_spend_vs_stock_puts_the_stock_on_a_second_axis(view, unit, axis):
    spend = pd.DataFrame({"period": pd.to_datetime(["2025-04-28"]), "amount": [700.0]})
    events = pd.DataFrame({"date": [pd.Timestamp("2025-05-01")], "provider": ["Microsoft"],
                           "headline": ["A big deal"]})
    fig = charts.spend_vs_stock(spend, line(view, unit), "Microsoft", "USD", "effective", "week", events)
    assert fig.layout.title.text.startswith("Microsoft: weekly effective cost (USD) and ")
    assert fig.layout.yaxis.title.text == "Effective cost (USD)"
    assert fig.layout.yaxis2.title.text == axis
    assert fig.layout.xaxis.title.text == "Date"
    bars, stock, markers = fig.data
    assert (list(bars.y), stock.yaxis, list(stock.y)) == ([700.0], "y2", [1.5, -0.5])
    assert list(markers.hovertext) == ["2025-05-01 · Microsoft<br>A big deal"]
    assert len(fig.layout.shapes) == 1  # the event's vertical line
    table = charts.figure_frame(fig)
    assert table["series"].tolist() == ["Microsoft spend", line(view).label, line(view).label, "Events"]
    assert table["axis"].tolist() == ["Effective cost (USD)", axis, axis, "Effective cost (USD)"]
    assert table["text"].tolist()[-1] == "2025-05-01 · Microsoft<br>A big deal"


def test_small_multiples_one_panel_per_provider(over_time):
    lines = {"AWS": line("return"), "Oracle": line("return")}
    fig = charts.small_multiples(over_time, lines, "USD", "effective", "month", "return")
    assert [a.text for a in fig.layout.annotations] == ["AWS (MSFT)", "Oracle (MSFT)"]
    assert fig.layout.title.text == ("Monthly effective cost (USD, bars) and cumulative return (%, line) per "
                                     "provider")
    assert fig.layout.yaxis.title.text == "USD" and fig.layout.yaxis2.title.text == "%"
    table = charts.figure_frame(fig)
    assert table.groupby(["panel", "series"]).size().to_dict() == {
        ("AWS", "Cumulative return"): 2, ("AWS", "Spend (USD)"): 2, ("Oracle", "Cumulative return"): 2,
        ("Oracle", "Spend (USD)"): 2}
    assert table[(table["panel"] == "Oracle") & (table["series"] == "Spend (USD)")]["y"].tolist() == [5.0, 4.0]


def hatched(fig) -> list[tuple[str, list, list]]:
    """(name, x, hover note) of every hatched bar trace."""
    return [(t.name, [str(pd.Timestamp(x).date()) for x in t.x], list(t.customdata)) for t in fig.data
            if t.type == "bar" and t.marker.pattern.shape == "/"]


def test_partial_periods_are_hatched_with_a_note(over_time):
    partial = partial_periods(date(2025, 5, 20), date(2025, 6, 30), "month")  # May: 12 of 31 days
    fig = charts.stacked_spend(over_time, "provider", "month", "EUR", "effective", partial)
    note = ["<br>partial: 12 of 31 days"]
    assert hatched(fig) == [("AWS", ["2025-05-01"], note), ("Oracle", ["2025-05-01"], note)]
    solid = [(t.name, list(t.y), t.showlegend is not False) for t in fig.data if t.marker.pattern.shape is None]
    assert solid == [("AWS", [12.0], True), ("Oracle", [4.0], True)]  # the legend shows the solid bars
    assert all(t.hovertemplate.endswith("%{customdata}<extra></extra>") for t in fig.data)
    assert [t.showlegend for t in fig.data if t.marker.pattern.shape == "/"] == [False, False]
    grid = charts.small_multiples(over_time, {"AWS": line("return")}, "USD", "effective", "month", "return",
                                  partial=partial)
    assert hatched(grid) == [("Spend (USD)", ["2025-05-01"], note)]
    one = charts.spend_vs_stock(over_time[over_time["provider"] == "AWS"], line("price", "USD"), "AWS", "USD",
                                "effective", "month", partial=partial)
    assert hatched(one) == [("AWS spend", ["2025-05-01"], note)]
    stock = next(t for t in one.data if t.type == "scatter")
    assert (stock.line.color, stock.line.width, one.data[0].opacity) == ("#000000", 2.5, 0.55)


def test_when_every_period_is_partial_the_hatched_bars_carry_the_legend(over_time):
    inside = partial_periods(date(2025, 5, 3), date(2025, 5, 20), "month")
    fig = charts.stacked_spend(over_time[over_time["period"] == "2025-05-01"], "provider", "month", "EUR",
                               "effective", inside)
    assert [(t.name, t.marker.pattern.shape, t.showlegend) for t in fig.data] == [("AWS", "/", True),
                                                                                   ("Oracle", "/", True)]


def test_full_periods_are_not_hatched(over_time):
    fig = charts.stacked_spend(over_time, "provider", "month", "EUR", "effective",
                               partial_periods(date(2025, 5, 1), date(2025, 6, 30), "month"))
    assert hatched(fig) == [] and len(fig.data) == 2


def paths_of(tickers: list[str]) -> pd.DataFrame:
    """A CAR path of days -1..1 per ticker (one event), CAR 1, 2, 3 % with a band of ± 1 point."""
    rows = [{"event_id": "ev", "ticker": t, "relative_day": d, "date": f"2025-05-0{d + 2}", "car": (d + 2) / 100,
             "lower": (d + 1) / 100, "upper": (d + 3) / 100} for t in tickers for d in (-1, 0, 1)]
    return pd.DataFrame(rows)


def bands(fig) -> list[str]:
    return [t.meta for t in fig.data if t.fill == "tonexty"]


def test_car_paths_one_line_per_ticker_with_its_band():
    fig = charts.car_paths(paths_of(["GOOGL", "MSFT"]), "Acme signs a deal")
    assert fig.layout.title.text == "Acme signs a deal"
    assert fig.layout.yaxis.title.text == "Cumulative abnormal return (%)"
    lines = {t.name: list(t.y) for t in fig.data if t.mode == "lines+markers"}
    assert lines == {"GOOGL": pytest.approx([1.0, 2.0, 3.0]), "MSFT": pytest.approx([1.0, 2.0, 3.0])}
    assert bands(fig) == ["GOOGL", "MSFT"]


def test_car_paths_never_draw_more_than_three_bands():
    many = paths_of(["GOOGL", "MSFT", "CRWV", "NVDA", "AMZN"])
    fig = charts.car_paths(many, "Five tickers")
    assert len([t for t in fig.data if t.mode == "lines+markers"]) == 5  # every ticker's line
    assert bands(fig) == ["GOOGL", "MSFT", "CRWV"]  # the first three's bands only
    assert bands(charts.car_paths(many, "Chosen", banded=["NVDA", "AMZN"])) == ["NVDA", "AMZN"]
    assert bands(charts.car_paths(many, "Too many chosen", banded=["AMZN", "NVDA", "CRWV", "MSFT"])) == [
        "MSFT", "CRWV", "NVDA"]


def test_each_band_is_filled_in_its_lines_colour():
    fig = charts.car_paths(paths_of(["GOOGL", "MSFT"]), "Two tickers")
    lines = {t.name: t.line.color for t in fig.data if t.mode == "lines+markers"}
    fills = {t.meta: t.fillcolor for t in fig.data if t.fill == "tonexty"}
    assert lines == {"GOOGL": "#0072B2", "MSFT": "#D55E00"}
    assert fills == {"GOOGL": "rgba(0,114,178,0.15)", "MSFT": "rgba(213,94,0,0.15)"}


@pytest.mark.parametrize(("grain", "days"), [("day", 1), ("week", 7), ("month", 30)])
def test_a_lone_bar_is_drawn_most_of_its_period_wide(over_time, grain, days):
    # plotly sizes bars by the gaps between them: one bar alone would be 1 ms wide, invisible
    fig = charts.stacked_spend(over_time[over_time["period"] == "2025-05-01"].head(1), "provider", grain, "EUR",
                               "effective")
    [bar] = fig.data
    assert len(bar.x) == 1 and bar.width == 0.8 * days * 86_400_000
