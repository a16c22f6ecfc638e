"""Plotly figures of the dashboard, built from the queries' and services' results. No Streamlit here.

Every figure has a title and axis titles with their units (the reporting currency for spend, the trading
currency or % for stock lines). :func:`figure_frame` turns a figure back into the long table of exactly the
points it draws, for the CSV download next to it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import date

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.formats import percent
from dashboard.palette import NEUTRAL, STOCK_LINE, TICKER_SEQUENCE, provider_colors, translucent
from dashboard.queries.spend import DIMENSION_LABELS, MEASURE_LABELS
from dashboard.services.periods import PartialPeriod
from dashboard.services.stock_lines import VIEWS, StockLine

GRAIN_LABELS = {"day": "Day", "week": "Week (from Monday)", "month": "Month"}
GRAIN_ADJECTIVES = {"day": "Daily", "week": "Weekly", "month": "Monthly"}
_DAY_MS = 86_400_000
_PERIOD = {"day": _DAY_MS, "week": 7 * _DAY_MS, "month": "M1"}  # plotly xperiod of one bar
# Bar widths in ms: plotly derives a bar's width from the gaps between bars, so a lone bar (a range of one period,
# or the one partial period of a trace) would be drawn 1 ms wide, i.e. not at all.
_WIDTH = {"day": 0.8 * _DAY_MS, "week": 0.8 * 7 * _DAY_MS, "month": 0.8 * 30 * _DAY_MS}
EVENT_COLOR = "#d62728"
BAR_OPACITY = 0.55  # spend bars under a stock line: light enough for the line to stand out
STOCK_STYLE = {"color": STOCK_LINE, "width": 2.5}


def _money_axis(measure: str, currency: str) -> str:
    return f"{MEASURE_LABELS[measure]} ({currency})"


def _stock_axis(line: StockLine) -> str:
    if line.view == "price":
        return f"{line.ticker} close ({line.unit})" if line.unit else f"{line.ticker} close"
    if line.view == "return":
        return f"{line.ticker} cumulative return (%)"
    return f"{line.label} (%)"


def _hover_money(currency: str) -> str:
    return "%{fullData.name}<br>%{x|%Y-%m-%d}: %{y:,.2f} " + currency + "%{customdata}<extra></extra>"


PARTIAL_PATTERN = "/"  # the hatching of a bar whose period the range covers only in part


def _period_bars(grain: str) -> dict[str, object]:
    """The position and width of a period's bar: centred on its period, 80 % of it wide."""
    return {"xperiod": _PERIOD[grain], "xperiodalignment": "middle", "width": _WIDTH[grain]}


def _bars(periods: pd.Series, amounts: pd.Series, partial: Mapping[date, PartialPeriod] | None, **props
          ) -> list[go.Bar]:
    """One series of bars per period: a trace of the full periods and, when there are any, a hatched trace of
    the periods the range covers only in part (``partial``), whose hover adds "partial: N of M days", so a
    short first or last period does not read as a drop. Both share the legend entry, which shows a solid
    swatch (the hatched trace is only in the legend when every period is partial). The hover templates end in
    ``%{customdata}``: the note, or nothing."""
    cut = pd.Series([(partial or {}).get(pd.Timestamp(period).date()) for period in periods], index=periods.index,
                    dtype=object)
    full = cut.isna()
    traces = [go.Bar(x=periods[full], y=amounts[full], customdata=[""] * int(full.sum()), **props)]
    if not full.all():
        props = props | {"legendgroup": props.get("legendgroup", props.get("name")),
                         "showlegend": props.get("showlegend", True) and not full.any()}
        traces.append(go.Bar(x=periods[~full], y=amounts[~full], customdata=[f"<br>{p.note}" for p in cut[~full]],
                             marker_pattern_shape=PARTIAL_PATTERN, **props))
    return [t for t in traces if len(t.x) or len(traces) == 1]


def stacked_spend(frame: pd.DataFrame, by: str, grain: str, currency: str, measure: str,
                  partial: Mapping[date, PartialPeriod] | None = None) -> go.Figure:
    """Stacked bars of ``spend_over_time``: one trace per group, x = period start, y = amount; the bars of
    ``partial`` periods (``periods.partial_periods``) hatched."""
    fig = go.Figure()
    colors = provider_colors(frame[by].astype(str)) if by == "provider" else {}
    for group, rows in frame.groupby(by, sort=False):
        fig.add_traces(_bars(rows["period"], rows["amount"], partial, name=str(group), **_period_bars(grain),
                             hovertemplate=_hover_money(currency),
                             marker_color=colors.get(str(group))))
    title = f"{GRAIN_ADJECTIVES[grain]} {MEASURE_LABELS[measure].lower()} per {DIMENSION_LABELS[by].lower()} " \
            f"({currency})"
    fig.update_layout(barmode="relative", title=title, xaxis_title=GRAIN_LABELS[grain],
                      yaxis_title=_money_axis(measure, currency), legend_title=DIMENSION_LABELS[by],
                      hovermode="closest", margin={"t": 60})
    if grain == "month":  # one label per month, under its bar (not "Mar 16", the bar's middle)
        fig.update_xaxes(dtick="M1", tickformat="%b %Y", ticklabelmode="period")
    return fig


ANOMALY_COLOR = "#ff7f0e"
ANOMALY_SIZES = {"high": 16, "medium": 13, "low": 10}


def with_anomalies(fig: go.Figure, marks: pd.DataFrame, grain: str, currency: str) -> go.Figure:
    """``fig`` (from :func:`stacked_spend`) with a marker above each period that holds anomalies (``marks`` of
    ``queries.anomalies.chart_marks``), sized by the highest severity; its hover lists them. A copy: ``fig`` may
    be a cached figure that other sessions read."""
    if marks.empty:
        return fig
    fig = go.Figure(fig)
    tops: dict[pd.Timestamp, float] = {}
    for trace in fig.data:  # the stacked height of each period: the bars' positive amounts added up
        if isinstance(trace, go.Bar):
            for x, y in zip(trace.x, trace.y, strict=True):
                tops[pd.Timestamp(x)] = tops.get(pd.Timestamp(x), 0.0) + max(float(y), 0.0)
    rank = {severity: i for i, severity in enumerate(ANOMALY_SIZES)}
    periods = []
    for period, rows in marks.groupby("period", sort=True):
        worst = min(rows["severity"], key=rank.get)
        lines = [f"{r.date:%Y-%m-%d} {r.series}: {r.actual:,.2f} {currency} (expected {r.expected:,.2f}, "
                 f"{r.excess_pct:+.1f} %, {r.severity})" for r in rows.itertuples()]
        periods.append((pd.Timestamp(period), tops.get(pd.Timestamp(period), 0.0), worst, "<br>".join(lines)))
    x, y, worst, text = zip(*periods, strict=True)
    fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="markers", name="Anomalies", hovertext=list(text),
                             hovertemplate="%{hovertext}<extra>Anomalies</extra>", xperiod=_PERIOD[grain],
                             xperiodalignment="middle",
                             marker={"symbol": "star", "color": ANOMALY_COLOR, "line": {"width": 1, "color": "white"},
                                     "size": [ANOMALY_SIZES[w] for w in worst]}))
    return fig


def spend_bars(frame: pd.DataFrame, by: str, currency: str, measure: str, title: str) -> go.Figure:
    """Horizontal bars of ``spend_by``, largest on top."""
    fig = go.Figure(go.Bar(x=frame["amount"], y=frame[by].astype(str), orientation="h",
                           name=MEASURE_LABELS[measure], marker_color=NEUTRAL, customdata=frame["share"] * 100,
                           hovertemplate="%{y}: %{x:,.2f} " + currency + " (%{customdata:.1f} %)<extra></extra>"))
    fig.update_layout(title=f"{title} ({currency})", xaxis_title=_money_axis(measure, currency),
                      yaxis_title=DIMENSION_LABELS[by], yaxis_autorange="reversed", margin={"t": 60},
                      height=max(300, 32 * len(frame) + 120))
    return fig


def _add_events(fig: go.Figure, events: pd.DataFrame, y: float, row: int = 1, col: int = 1,
                showlegend: bool = True, panel: str | None = None) -> list[dict]:
    """One marker per event, whose hover shows the headline; returns the dotted vertical lines at the events' dates
    for the caller to add to the layout's shapes in one go, with every panel's (``add_vline`` per event, or one
    assignment of the shapes per panel, re-validates every shape each time: seconds on a grid of panels with many
    events)."""
    if events is None or events.empty:
        return []
    dates = pd.to_datetime(events["date"])
    subplot = fig.get_subplot(row, col)
    xref = subplot.xaxis.plotly_name.replace("axis", "")
    yref = subplot.yaxis.plotly_name.replace("axis", "") + " domain"
    line = {"color": EVENT_COLOR, "dash": "dot", "width": 1}
    shapes = [{"type": "line", "xref": xref, "yref": yref, "x0": day, "x1": day, "y0": 0, "y1": 1, "line": line}
              for day in dates.drop_duplicates()]
    text = [f"{d:%Y-%m-%d} · {p}<br>{h}" for d, p, h in zip(dates, events["provider"], events["headline"],
                                                              strict=True)]
    fig.add_trace(go.Scatter(x=dates, y=[y] * len(events), mode="markers", name="Events",
                             marker={"symbol": "triangle-down", "size": 11, "color": EVENT_COLOR},
                             hovertext=text, hovertemplate="%{hovertext}<extra></extra>", showlegend=showlegend,
                             legendgroup="events", meta=panel), row=row, col=col, secondary_y=False)
    return shapes


def spend_vs_stock(spend: pd.DataFrame, line: StockLine, provider: str, currency: str, measure: str, grain: str,
                   events: pd.DataFrame | None = None, partial: Mapping[date, PartialPeriod] | None = None
                   ) -> go.Figure:
    """One provider's spend per period (bars, left axis) with its parent's stock line (right axis) and the
    events as vertical markers; the bars of ``partial`` periods hatched. ``spend``: columns period, amount."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for bars in _bars(spend["period"], spend["amount"], partial, name=f"{provider} spend", **_period_bars(grain),
                      opacity=BAR_OPACITY, hovertemplate=_hover_money(currency),
                      marker_color=provider_colors([provider])[provider]):
        fig.add_trace(bars, secondary_y=False)
    unit = "%" if line.view != "price" else f" {line.unit}"
    fig.add_trace(go.Scatter(x=line.frame["date"], y=line.frame["value"], name=line.label, mode="lines",
                             line=STOCK_STYLE,
                             hovertemplate="%{fullData.name}<br>%{x|%Y-%m-%d}: %{y:,.2f}" + unit + "<extra></extra>"),
                  secondary_y=True)
    top = float(spend["amount"].max()) if len(spend) else 1.0
    fig.update_layout(shapes=_add_events(fig, events, top * 1.05 if top > 0 else 1.0),
                      title=f"{provider}: {GRAIN_ADJECTIVES[grain].lower()} {MEASURE_LABELS[measure].lower()} "
                            f"({currency}) and {line.label}", hovermode="closest", margin={"t": 60},
                      legend={"orientation": "h", "y": -0.2})
    fig.update_xaxes(title_text="Date")
    fig.update_yaxes(title_text=_money_axis(measure, currency), secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=_stock_axis(line), secondary_y=True, showgrid=False)
    return fig


def small_multiples(spend: pd.DataFrame, lines: dict[str, StockLine], currency: str, measure: str, grain: str,
                    view: str, events: pd.DataFrame | None = None, columns: int = 2,
                    partial: Mapping[date, PartialPeriod] | None = None) -> go.Figure:
    """One panel per provider of ``lines`` (provider -> its stock line): spend bars and the stock line on a
    second axis; the bars of ``partial`` periods hatched. ``spend``: columns period, provider, amount.

    The panels share their time axis; each axis has a few short ticks (``Jun 2025``, ``12k``) so the labels of
    neighbouring panels never run into each other."""
    providers = list(lines)
    colors = provider_colors(providers)
    shapes: list[dict] = []
    axes: dict[str, dict] = {}  # set in one layout update: plotly's update_*axes re-validate per axis and call
    rows = max(math.ceil(len(providers) / columns), 1)
    fig = make_subplots(rows=rows, cols=columns, specs=[[{"secondary_y": True}] * columns] * rows,
                        subplot_titles=[f"{p} ({lines[p].ticker})" for p in providers], vertical_spacing=0.12,
                        horizontal_spacing=0.2)  # room for both panels' axis titles between them
    for i, provider in enumerate(providers):
        row, col = i // columns + 1, i % columns + 1
        mine = spend[spend["provider"] == provider]
        line = lines[provider]
        for bars in _bars(mine["period"], mine["amount"], partial, name=f"Spend ({currency})",
                          **_period_bars(grain), marker_color=colors[provider],
                          opacity=BAR_OPACITY, legendgroup="spend", showlegend=i == 0, meta=provider,
                          hovertemplate="%{meta}<br>%{x|%Y-%m-%d}: %{y:,.2f} " + currency
                                        + "%{customdata}<extra></extra>"):
            fig.add_trace(bars, row=row, col=col, secondary_y=False)
        fig.add_trace(go.Scatter(x=line.frame["date"], y=line.frame["value"], name=f"{VIEWS[view]}", mode="lines",
                                 line=STOCK_STYLE, legendgroup="stock", showlegend=i == 0,
                                 meta=provider, text=[line.label] * len(line.frame),
                                 hovertemplate="%{text}<br>%{x|%Y-%m-%d}: %{y:,.2f}"
                                               + (f" {line.unit}" if view == "price" else "%") + "<extra></extra>"),
                      row=row, col=col, secondary_y=True)
        spend_axes, stock_axes = fig.get_subplot(row, col, secondary_y=False), fig.get_subplot(row, col,
                                                                                               secondary_y=True)
        axes[spend_axes.xaxis.plotly_name] = {"nticks": 5, "tickformat": "%b %Y", "tickangle": 0, "matches": "x"}
        axes[spend_axes.yaxis.plotly_name] = {"title": {"text": currency}, "rangemode": "tozero", "nticks": 5,
                                              "tickformat": ".3~s"}
        axes[stock_axes.yaxis.plotly_name] = {"title": {"text": line.unit if view == "price" else "%"},
                                              "showgrid": False, "nticks": 5, "tickformat": ".3~s"}
        if events is not None and len(events):
            top = float(mine["amount"].max()) if len(mine) else 1.0
            shapes += _add_events(fig, events[events["provider"] == provider], top * 1.05 if top > 0 else 1.0, row,
                                  col, showlegend=False, panel=provider)
    unit = "trading currency" if view == "price" else "%"
    fig.update_layout(shapes=shapes,
                      title=f"{GRAIN_ADJECTIVES[grain]} {MEASURE_LABELS[measure].lower()} ({currency}, bars) and "
                            f"{VIEWS[view].lower()} ({unit}, line) per provider",
                      height=300 * rows + 120, hovermode="closest", margin={"t": 80},
                      legend={"orientation": "h", "y": -0.08}, **axes)
    return fig


MAX_BANDS = 3  # 95 % bands on one CAR chart: more overlap into a blur nobody can read


def car_paths(paths: pd.DataFrame, title: str, banded: Collection[str] | None = None) -> go.Figure:
    """One event's CAR line per ticker over the relative days (``car_paths`` service, one event's rows), with
    the 95 % band of at most :data:`MAX_BANDS` tickers: those of ``banded`` (default: the first ones drawn)."""
    tickers = list(dict.fromkeys(paths["ticker"]))
    bands = [t for t in tickers if banded is None or t in banded][:MAX_BANDS]
    fig = go.Figure()
    for i, (ticker, rows) in enumerate(paths.groupby("ticker", sort=False)):
        color = TICKER_SEQUENCE[i % len(TICKER_SEQUENCE)]
        if ticker in bands:
            fig.add_trace(go.Scatter(x=rows["relative_day"], y=rows["upper"] * 100, mode="lines", line={"width": 0},
                                     showlegend=False, hoverinfo="skip", legendgroup=ticker, meta=ticker))
            fig.add_trace(go.Scatter(x=rows["relative_day"], y=rows["lower"] * 100, mode="lines", line={"width": 0},
                                     fill="tonexty", fillcolor=translucent(color), showlegend=False,
                                     hoverinfo="skip", legendgroup=ticker, meta=ticker, name=f"{ticker} 95 % band"))
        fig.add_trace(go.Scatter(x=rows["relative_day"], y=rows["car"] * 100, mode="lines+markers", name=ticker,
                                 line={"color": color}, marker={"size": 5},
                                 legendgroup=ticker, meta=ticker, customdata=rows["date"].astype(str),
                                 hovertemplate="%{meta}, day %{x} (%{customdata}): CAR %{y:.2f} %<extra></extra>"))
    fig.add_vline(x=0, line_dash="dot", line_color=EVENT_COLOR)
    fig.update_layout(title={"text": title, "font": {"size": 14}}, xaxis_title="Sessions relative to day 0",
                      yaxis_title="Cumulative abnormal return (%)", hovermode="closest", height=360,
                      margin={"t": 50, "l": 10, "r": 10}, legend={"orientation": "h", "y": -0.25})
    return fig


def figure_frame(fig: go.Figure) -> pd.DataFrame:
    """Every point a figure draws, as a long table: panel (the trace's ``meta``: the provider of a small
    multiple), series, x, y, axis (the value axis title, with its unit) and text (hover text, e.g. an
    event's headline)."""
    layout = fig.layout
    titles: dict[str, str | None] = {}  # value axis -> its title; plotly's property lookups are slow, read each once
    columns: dict[str, list] = {name: [] for name in ("panel", "series", "x", "y", "axis", "text")}
    for trace in fig.data:
        horizontal = getattr(trace, "orientation", None) == "h"
        ref = (trace.xaxis or "x") if horizontal else (trace.yaxis or "y")
        axis_name = ref[0] + "axis" + ref[1:]
        if axis_name not in titles:
            titles[axis_name] = layout[axis_name].title.text if axis_name in layout else None
        xs = list(trace.x) if trace.x is not None else []
        ys = list(trace.y) if trace.y is not None else []
        if horizontal:
            xs, ys = ys, xs
        texts = list(trace.hovertext) if trace.hovertext is not None else [None] * len(xs)
        points = min(len(xs), len(ys), len(texts))
        columns["panel"] += [trace.meta or ""] * points
        columns["series"] += [trace.name] * points
        columns["x"] += xs[:points]
        columns["y"] += ys[:points]
        columns["axis"] += [titles[axis_name]] * points
        columns["text"] += texts[:points]
    return pd.DataFrame(columns)


# ---- Commitments page ------------------------------------------------------------------------------------------

UNUSED_COLOR = EVENT_COLOR  # unused commitment cost: red, the money a page should make stand out
_DASHES = ("solid", "dash", "dot", "dashdot")


def commitment_cost(frame: pd.DataFrame, currency: str) -> go.Figure:
    """Stacked monthly bars of one billing currency's ``commitments.utilization`` rows: the used commitment cost
    per provider in its colour, and the unused cost of all commitments on top in red."""
    fig = go.Figure()
    months = frame.groupby(["month", "provider"], as_index=False)[["used_cost", "unused_cost"]].sum(min_count=1)
    colors = provider_colors(months["provider"])
    hover = "%{fullData.name}<br>%{x|%b %Y}: %{y:,.2f} " + currency + "<extra></extra>"
    for provider, rows in months.groupby("provider", sort=True):
        fig.add_trace(go.Bar(x=rows["month"], y=rows["used_cost"], name=f"Used: {provider}", **_period_bars("month"),
                             marker_color=colors[provider], hovertemplate=hover))
    unused = months.groupby("month", as_index=False)["unused_cost"].sum(min_count=1).dropna()
    fig.add_trace(go.Bar(x=unused["month"], y=unused["unused_cost"], name="Unused (all commitments)",
                         **_period_bars("month"), marker_color=UNUSED_COLOR, hovertemplate=hover))
    fig.update_layout(barmode="relative", title=f"Commitment cost used and unused per month ({currency})",
                      xaxis_title="Month", yaxis_title=f"Effective cost ({currency})", legend_title="Commitment cost",
                      hovermode="closest", margin={"t": 60})
    fig.update_xaxes(dtick="M1", tickformat="%b %Y", ticklabelmode="period")
    return fig


def commitment_utilization(frame: pd.DataFrame) -> go.Figure:
    """One line per commitment (its name and provider) of utilization (%) over the months, in its provider's
    colour, a different dash per commitment of the same provider. Rows without a utilization are left out."""
    shown = frame.dropna(subset=["utilization"]).sort_values("month")
    colors = provider_colors(shown["provider"])
    fig = go.Figure()
    seen: dict[str, int] = {}
    for (provider, name, currency), rows in shown.groupby(["provider", "commitment_name", "currency"], sort=True):
        dash = _DASHES[seen.get(provider, 0) % len(_DASHES)]
        seen[provider] = seen.get(provider, 0) + 1
        fig.add_trace(go.Scatter(x=rows["month"], y=rows["utilization"] * 100, mode="lines+markers",
                                 name=f"{name} ({provider}, {currency})",
                                 line={"color": colors[provider], "dash": dash},
                                 hovertemplate="%{fullData.name}<br>%{x|%b %Y}: %{y:.1f} % used<extra></extra>"))
    fig.update_layout(title="Utilization per commitment (used / (used + unused))", xaxis_title="Month",
                      yaxis_title="Utilization (%)", yaxis_range=[0, 105], hovermode="closest", margin={"t": 60},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    return fig


def commitment_coverage(frame: pd.DataFrame) -> go.Figure:
    """One line per provider (and billing currency, when a provider bills in several) of coverage (%) over the
    months, in the provider's colour."""
    shown = frame.dropna(subset=["coverage"]).sort_values("month")
    colors = provider_colors(shown["provider"])
    several = shown.groupby("provider")["currency"].nunique()
    fig = go.Figure()
    for (provider, currency), rows in shown.groupby(["provider", "currency"], sort=True):
        name = f"{provider} ({currency})" if several[provider] > 1 else provider
        fig.add_trace(go.Scatter(x=rows["month"], y=rows["coverage"] * 100, mode="lines+markers", name=name,
                                 line={"color": colors[provider]},
                                 hovertemplate="%{fullData.name}<br>%{x|%b %Y}: %{y:.1f} % covered<extra></extra>"))
    fig.update_layout(title="Coverage of commitment-eligible compute spend per provider", xaxis_title="Month",
                      yaxis_title="Covered by commitments (%)", yaxis_range=[0, 105], legend_title="Provider",
                      hovermode="closest", margin={"t": 60})
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    return fig


# How a compute class is drawn in its provider's colour (the AI-compute small multiples): accelerators solid, CPU
# lighter, the rest pale and patterned, so the classes read apart in every panel (and in grey print). "/" is left
# to the partial periods of the other charts.
CLASS_STYLES = {
    "GPU": {"opacity": 1.0, "pattern": ""},
    "TPU": {"opacity": 1.0, "pattern": "x"},
    "CPU": {"opacity": 0.45, "pattern": ""},
    "Other compute": {"opacity": 0.35, "pattern": "."},
    "Unclassified": {"opacity": 0.3, "pattern": "-"},
}


def compute_classes(frame: pd.DataFrame, shares: Mapping[str, float | None], grain: str, currency: str,
                    measure: str) -> go.Figure:
    """One panel per provider (its colour) of ``class_over_time``: stacked bars of compute spend per class, the
    class told by shade and pattern (:data:`CLASS_STYLES`, one legend entry per class, in grey); each panel's
    title gives the provider's AI share over the range from ``shares`` (provider -> share, ``share_by_provider``)."""
    providers = list(frame.groupby("provider")["amount"].sum().sort_values(ascending=False).index)
    colors = provider_colors(providers)
    fig = make_subplots(rows=max(len(providers), 1), cols=1, shared_xaxes=True, vertical_spacing=0.22 / max(
        len(providers), 1), subplot_titles=[f"{p}: AI share {percent(shares.get(p))}" for p in providers])
    for name, style in CLASS_STYLES.items():  # the legend: one grey swatch per class, whatever the providers (a
        # bar of 0: a trace without points would leave the shared time axis without a type, and nothing is drawn)
        fig.add_trace(go.Bar(x=frame["period"].head(1), y=[0], name=name, legendgroup=name, hoverinfo="skip",
                             marker=_class_marker(translucent(NEUTRAL, style["opacity"]), style["pattern"])),
                      row=1, col=1)  # (a legend swatch ignores the marker's opacity: the shade is in the colour)
    axes: dict[str, dict] = {}
    for row, provider in enumerate(providers, start=1):
        mine = frame[frame["provider"] == provider]
        for name, style in CLASS_STYLES.items():
            rows = mine[mine["compute_class"] == name]
            if rows.empty:
                continue
            fig.add_trace(go.Bar(x=rows["period"], y=rows["amount"], name=name, legendgroup=name, showlegend=False,
                                 meta=provider, **_period_bars(grain),
                                 marker=_class_marker(colors[provider], style["pattern"], style["opacity"]),
                                 hovertemplate="%{meta}, %{fullData.name}<br>%{x|%Y-%m-%d}: %{y:,.2f} " + currency
                                               + "<extra></extra>"), row=row, col=1)
        y_axis = fig.get_subplot(row, 1).yaxis.plotly_name
        axes[y_axis] = {"title": {"text": currency}, "rangemode": "tozero", "nticks": 4, "tickformat": ".3~s"}
    # no axis title (the period ticks say it), but a title object, which readers of the figure expect
    fig.update_xaxes(title_text="", nticks=12)
    if grain == "month":
        fig.update_xaxes(tickformat="%b %Y", ticklabelmode="period")
    fig.update_layout(barmode="relative", height=170 * max(len(providers), 1) + 120, hovermode="closest",
                      title=f"{GRAIN_ADJECTIVES[grain]} compute {MEASURE_LABELS[measure].lower()} per class and "
                            f"provider ({currency})",
                      legend={"title": "Class", "tracegroupgap": 4}, margin={"t": 90}, **axes)
    return fig


def _class_marker(color: str, pattern: str, opacity: float = 1.0) -> dict:
    """A class's bar: the colour (the provider's, kept as it is), its shade as opacity, its pattern in white over it."""
    return {"color": color, "opacity": opacity,
            "pattern": {"shape": pattern, "fgcolor": "white", "fillmode": "overlay"}}


FORECAST_COLOR = "#000000"  # the forecast line over stacked bars of every provider's colour: black stands out


def _bar_totals(fig: go.Figure) -> dict[pd.Timestamp, float]:
    """The height of each period's stack of bars in ``fig``: the spend line the forecast continues."""
    totals: dict[pd.Timestamp, float] = {}
    for trace in fig.data:
        if trace.type == "bar" and trace.x is not None:
            for x, y in zip(pd.to_datetime(list(trace.x)), trace.y, strict=True):
                totals[x] = totals.get(x, 0.0) + float(y)
    return totals


def with_forecast(fig: go.Figure, totals: pd.DataFrame, path: pd.DataFrame, grain: str, currency: str,
                  name: str = "total") -> go.Figure:
    """A copy of a spend figure (``stacked_spend``) with the stored forecast drawn over it: a dashed line from
    the last actual period's stack to the forecast, with its 80 % and 95 % bands fanning out from there. Daily
    bars get the daily path (``forecast_path``) to the month's end; monthly bars the month-end total
    (``forecast_totals``), whose interval is that of the month's sum. Weekly bars get nothing: a week's interval
    is not stored (summing daily bands would misstate it)."""
    if totals.empty or grain not in ("day", "month"):
        return fig
    month = totals[totals["period"] == "month"].iloc[0]
    if grain == "day":
        ahead = path.rename(columns={"date": "x", "mean": "y"})
        anchor = pd.Timestamp(month["as_of"])
    else:
        ahead = pd.DataFrame([month]).rename(columns={"period_start": "x", "forecast_total": "y"})
        anchor = pd.Timestamp(month["period_start"]) - pd.DateOffset(months=1)
    ahead = ahead[["x", "y", "lower_80", "upper_80", "lower_95", "upper_95"]].assign(x=lambda f: pd.to_datetime(f.x))
    actual = _bar_totals(fig).get(anchor)
    if actual is not None:
        ahead = pd.concat([pd.DataFrame([{"x": anchor, **dict.fromkeys(ahead.columns[1:], actual)}]), ahead],
                          ignore_index=True)
    out = go.Figure(fig)  # the spend figure is cached and shared: never change it in place
    period = {"xperiod": _PERIOD[grain], "xperiodalignment": "middle"}
    label = f"Forecast ({name})"
    for level, alpha in (("95", 0.10), ("80", 0.22)):
        out.add_trace(go.Scatter(x=ahead["x"], y=ahead[f"upper_{level}"], mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip", legendgroup="forecast", **period))
        out.add_trace(go.Scatter(x=ahead["x"], y=ahead[f"lower_{level}"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=translucent(FORECAST_COLOR, alpha),
                                 name=f"{label}, {level} % interval", legendgroup="forecast", hoverinfo="skip",
                                 **period))
    hover = ("%{x|%Y-%m-%d}: %{y:,.0f} " + currency + "<br>80 %: %{customdata[0]:,.0f} – %{customdata[1]:,.0f}"
             "<br>95 %: %{customdata[2]:,.0f} – %{customdata[3]:,.0f}<extra>" + label + "</extra>")
    out.add_trace(go.Scatter(x=ahead["x"], y=ahead["y"], mode="lines+markers", name=label, legendgroup="forecast",
                             line={"color": FORECAST_COLOR, "dash": "dash", "width": 2}, marker={"size": 5},
                             customdata=ahead[["lower_80", "upper_80", "lower_95", "upper_95"]].to_numpy(),
                             hovertemplate=hover, **period))
    return out


def budget_bullets(status: pd.DataFrame) -> go.Figure:
    """One row per budget in % of its amount: the actual to date (solid), the forecast of the period's end
    (lighter, with its 80 % interval) and a tick at each alert threshold; the 100 % line is the budget."""
    names = [f"{r.budget} · {r.period_label}" for r in status.itertuples()]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=status["forecast_pct"], orientation="h", name="Forecast at period end",
                         marker_color=translucent(NEUTRAL, 0.35), width=0.7,
                         error_x={"type": "data", "symmetric": False, "color": NEUTRAL,
                                  "array": 100 * (status["forecast_upper_80"] - status["forecast"]) / status["amount"],
                                  "arrayminus": 100 * (status["forecast"] - status["forecast_lower_80"])
                                  / status["amount"]},
                         customdata=status[["forecast", "currency", "amount"]].to_numpy(),
                         hovertemplate="%{y}<br>forecast %{customdata[0]:,.0f} %{customdata[1]} = %{x:.1f} % of "
                                       "%{customdata[2]:,.0f}<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=status["actual_pct"], orientation="h", name="Actual to date",
                         marker_color=NEUTRAL, width=0.35,
                         customdata=status[["actual", "currency", "amount"]].to_numpy(),
                         hovertemplate="%{y}<br>actual %{customdata[0]:,.0f} %{customdata[1]} = %{x:.1f} % of "
                                       "%{customdata[2]:,.0f}<extra></extra>"))
    ticks = [(name, t) for name, thresholds in zip(names, status["thresholds"], strict=True) for t in thresholds]
    fig.add_trace(go.Scatter(y=[n for n, _ in ticks], x=[t for _, t in ticks], mode="markers", name="Thresholds",
                             marker={"symbol": "line-ns-open", "size": 26, "line": {"width": 3},
                                     "color": EVENT_COLOR},
                             hovertemplate="%{y}: threshold %{x:g} %<extra></extra>"))
    fig.update_layout(barmode="overlay", title="Budgets: actual and forecast in % of the budget",
                      xaxis_title="% of the budget amount", yaxis_title="Budget · period", yaxis_autorange="reversed",
                      height=max(300, 60 * len(status) + 180), margin={"t": 90}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    fig.add_vline(x=100, line_color=EVENT_COLOR, line_width=1)
    return fig
