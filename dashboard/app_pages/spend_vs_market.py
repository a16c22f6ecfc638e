"""Spend vs market: each provider's spend next to its listed parent's stock, and the events that moved both.

A thin page over ``dashboard.queries`` (spend per provider, tickers, event markers), ``dashboard.services``
(stock lines, events' share changes and CARs) and ``dashboard.charts``. Filters are kept in the URL.
"""

from dataclasses import replace

import streamlit as st

from dashboard import charts
from dashboard.queries import anomalies, market, meta, spend
from dashboard.queries import events as event_queries
from dashboard.services import event_spend, headlines, stock_lines
from dashboard.services.periods import partial_periods
from dashboard.services.settings import MODEL_LABELS
from dashboard.ui.cache import figure
from dashboard.ui.guard import load, start_page, study_config
from dashboard.ui.widgets import (
    download_csv,
    partial_caption,
    synthetic_label,
    synthetic_market_label,
    table,
    unconverted_warning,
)
from etl.market.tickers import provider_tickers

ctx, facts = start_page("Spend vs market", requires=("billing", "prices"))
headline = st.empty()  # the page's answer in one sentence, written once the chosen provider's event is loaded
currency, max_age = ctx.currency, ctx.max_rate_age_days
study = study_config(ctx)
synthetic_label(facts)
made_up = load(meta.synthetic_market, ctx.reader)
synthetic_market_label(made_up)
options = load(spend.filter_options, ctx.reader)
tickers = load(market.price_tickers, ctx.reader)
mapping = provider_tickers(ctx.config)
with_ticker = [p for p in options.providers if p in mapping]
priced = [p for p in with_ticker if mapping[p] in set(tickers["ticker"])]
if not priced:
    st.info("None of the providers in the spend has prices of its parent's ticker ("
            + ", ".join(f"{p} → {mapping[p]}" for p in with_ticker) + "). Load them with "
            "`python -m etl prices fetch`.", icon=":material/candlestick_chart:")
    st.stop()

# --- controls (kept in the URL) -----------------------------------------------------------------------------
benchmarks = list(tickers["ticker"])
default_benchmark = ctx.config.get("dashboard.benchmark").upper()
with st.sidebar:
    st.subheader("View")
    picked = st.date_input("Date range", value=(options.first_day, options.last_day), min_value=options.first_day,
                           max_value=options.last_day, key="sm_dates", bind="query-params")
    grain = st.segmented_control("Spend per", ["day", "week", "month"], default="week", required=True,
                                 format_func=str.title, key="sm_grain", bind="query-params") or "week"
    measure = st.segmented_control("Cost basis", list(spend.MEASURES), default="effective", required=True,
                                   format_func=spend.MEASURE_LABELS.get, key="sm_basis",
                                   bind="query-params") or "effective"
    view = st.radio("Stock as", list(stock_lines.VIEWS), format_func=stock_lines.VIEWS.get, key="sm_view",
                    bind="query-params", help="Price: the raw close. Cumulative return: total return (adjusted "
                                              "close) since the start of the range. Cumulative abnormal return: "
                                              "the return beyond the benchmark's, from the start of the range.")
    benchmark = st.selectbox("Benchmark", benchmarks, index=benchmarks.index(default_benchmark)
                             if default_benchmark in benchmarks else 0, key="sm_benchmark", bind="query-params",
                             help="Setting `dashboard.benchmark` is the default.", disabled=view != "car")
    model = st.radio("Abnormal-return model", list(stock_lines.MODELS), format_func=stock_lines.MODELS.get,
                     key="sm_model", bind="query-params", disabled=view != "car",
                     help=f"The market model is fitted over the estimation window {study.estimation} before the "
                          "start (setting `eventstudy.estimation`).")

start, end = (picked[0], picked[-1]) if isinstance(picked, tuple | list) and picked else (options.first_day,
                                                                                          options.last_day)
view = view or "price"
model = model or "market_adjusted"
flt = spend.SpendFilter(start=start, end=end, currency=currency, measure=measure, max_age_days=max_age)
label = spend.MEASURE_LABELS[measure]
st.caption(f"{label} in {currency} per {grain}, next to the listed parent's stock (setting `providers.tickers`). "
           "Events of the catalog are the red markers; hover one for its headline.")
per_provider = load(spend.spend_over_time, ctx.reader, flt=flt, grain=grain, by="provider", top=1000)
partial = partial_periods(max(start, options.first_day), min(end, options.last_day), grain)
unconverted_warning(load(spend.unconverted, ctx.reader, flt=flt), currency, "spend vs market")
pairs = tuple(sorted(mapping.items()))
events = load(event_queries.event_markers, ctx.reader, start=start, end=end, tickers=pairs)


def line_of(provider: str) -> stock_lines.StockLine:
    return load(stock_lines.stock_line, ctx.reader, ticker=mapping[provider], start=start, end=end, view=view,
                benchmark=benchmark, model=model, study=study)


# --- one provider ---------------------------------------------------------------------------------------------
st.subheader("One provider")
provider = st.selectbox("Provider", priced, key="sm_provider", bind="query-params") or priced[0]
line = line_of(provider)
mine = per_provider[per_provider["provider"] == provider][["period", "amount"]]
one = figure(charts.spend_vs_stock, mine, line, provider, currency, measure, grain,
             events[events["provider"] == provider], partial)
marks = load(anomalies.chart_marks, ctx.reader, flt=replace(flt, providers=(provider,)), grain=grain)
one = figure(charts.with_anomalies, one, marks, grain, currency)
st.plotly_chart(one, key="sm-one", alt=f"{provider} spend and {line.label}")
if len(marks):
    st.caption(f"★ marks the periods with {provider}'s spend anomalies ({len(marks)} days; the Anomalies page "
               "lists them).")
partial_caption(partial)
if line.frame.empty:
    st.info(f"No prices of {line.ticker} in this range ({line.note}).")
elif line.note:
    st.caption(f"{line.label}: {line.note}.")
download_csv(charts.figure_frame(one), f"{provider} spend and stock")

# --- all providers --------------------------------------------------------------------------------------------
st.subheader("All providers")
lines = {p: line_of(p) for p in priced}
grid = figure(charts.small_multiples, per_provider, lines, currency, measure, grain, view, events, partial=partial)
st.plotly_chart(grid, key="sm-all", alt="Spend and stock per provider")
missing = [p for p in options.providers if p not in priced]
if missing:
    st.caption("Not shown (no listed parent configured, or no prices of it): " + ", ".join(missing) + ".")
download_csv(charts.figure_frame(grid), "all providers spend and stock")

# --- events and our spend -------------------------------------------------------------------------------------
st.subheader("Events and our spend")
changes = load(event_spend.event_share_changes, ctx.reader, currency=currency, measure=measure, max_age_days=max_age,
               tickers=pairs, benchmark=default_benchmark, study=study)
headline.markdown(headlines.spend_vs_market(changes, provider, label, made_up.prices))
st.caption(f"The provider's share of all our {label.lower()} ({currency}) in the N days before the event's date "
           "(UTC) and in the N days from it; *Nd windows loaded* is unticked when the loaded spend does not cover "
           f"both. CAR[-1,+1]: cumulative abnormal return of the provider's ticker against {default_benchmark} "
           "(setting `dashboard.benchmark`) over the session before to the session after day 0, with the "
           "p-value of its time-series t test and stars (* 10 %, ** 5 %, *** 1 %), from "
           "`event_study_results` when the event study has run, else computed here as `eventstudy run` would "
           f"({MODEL_LABELS[study.model]}, estimation window {study.estimation}, at least {study.min_obs} sessions: "
           "settings `eventstudy.*`).")
if changes.empty:
    st.info("No event names a provider of our spend: `python -m etl init` loads the catalog, and "
            "`python -m etl events add` adds your own.", icon=":material/event:")
else:
    table(changes, "sm-events", first=("event_id", "ticker", *event_spend.CAR_COLUMNS))
download_csv(changes, "events and spend share")
