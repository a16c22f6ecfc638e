"""Event study: the market's reaction to chosen announcements, with every statistic of docs/eventstudy.md.

A thin page over ``dashboard.queries`` (the events, the tickers with prices), ``dashboard.services.event_study``
(the warehouse-mode event study, computed on demand and cached per warehouse version and choice; its CAR
paths and media comparison) and ``dashboard.charts.car_paths``. Choices are kept in the URL; their defaults are
the ``eventstudy.*`` settings.
"""

from textwrap import shorten

import streamlit as st

from dashboard import charts
from dashboard.queries import events as queries
from dashboard.queries import market, meta
from dashboard.services import event_study, headlines
from dashboard.services.settings import MODEL_LABELS
from dashboard.ui.cache import figure
from dashboard.ui.guard import load, start_page, study_config
from dashboard.ui.widgets import download_csv, synthetic_market_label, table
from etl.eventstudy.engine import CAR_STATISTICS, DAILY_STATISTICS

CHARTS_PER_ROW = 3  # small CAR charts side by side, one per event

ctx, _ = start_page("Event study", requires=("events", "prices"))
headline = st.empty()  # the page's answer in one sentence, written once the study has run
config = study_config(ctx)
catalog = load(queries.event_list, ctx.reader)
tickers = load(market.price_tickers, ctx.reader)
made_up = load(meta.synthetic_market, ctx.reader)
synthetic_market_label(made_up, "prices")

# --- choices (kept in the URL) ------------------------------------------------------------------------------
ids = list(catalog["event_id"])  # readable slugs, also what a shared link carries
default_event = "openai-google-cloud-2025" if "openai-google-cloud-2025" in ids else ids[0]
priced = list(tickers["ticker"])
with st.sidebar:
    st.subheader("Study")
    chosen = st.multiselect("Events", ids, default=[default_event], key="es_events", bind="query-params",
                            help="Newest first; 'All events' on the page lists their dates and headlines.")
    picked = st.multiselect("Tickers (default: each event's own)", priced, key="es_tickers", bind="query-params")
    benchmark = st.selectbox("Benchmark", ["", *priced], format_func=lambda t: t or "per exchange (setting)",
                             key="es_benchmark", bind="query-params",
                             help="Default: `eventstudy.benchmarks`, e.g. SPY for US listings, ^N225 for Tokyo.")
    models = list(MODEL_LABELS)
    model = st.radio("Normal-return model", models, index=models.index(config.model), format_func=MODEL_LABELS.get,
                     key="es_model", bind="query-params", help="Default: setting `eventstudy.model`.")
    returns_kind = st.radio("Returns", ["simple", "log"], index=["simple", "log"].index(config.returns_kind),
                            key="es_returns", bind="query-params", help="Default: setting `eventstudy.returns`.")
    windows = st.text_input("Event windows", ",".join(f"{w.start}:{w.end}" for w in config.windows),
                            key="es_windows", bind="query-params",
                            help="Session offsets START:END from day 0, separated by commas. Default: setting "
                                 "`eventstudy.windows`.")
    estimation = st.text_input("Estimation window", ctx.config.get("eventstudy.estimation"), key="es_estimation",
                               bind="query-params", help="Offsets START:END, or dates YYYY-MM-DD:YYYY-MM-DD. "
                                                         "Default: setting `eventstudy.estimation`.")
if not chosen:
    st.info("Choose one or more events in the sidebar.", icon=":material/event:")
    st.stop()

events = load(queries.event_details, ctx.reader, event_ids=tuple(chosen))
tables = load(event_study.study, ctx.reader, event_ids=tuple(chosen), tickers=tuple(picked), benchmark=benchmark or "",
              model=model or "", returns_kind=returns_kind or "", estimation=estimation, windows=windows, config=config)
headline.markdown(headlines.event_study(events, tables, made_up.prices))
st.caption("Abnormal returns around each announcement, beyond what the benchmark did, as "
           "`python -m etl eventstudy run` computes them (docs/eventstudy.md gives every formula and the "
           "reference each statistic reproduces). Close-to-close returns of adjusted closes; day 0 is the "
           "session of each ticker's listing exchange the announcement falls in.")

# --- the events -----------------------------------------------------------------------------------------------
with st.expander(f"All events ({len(catalog)})"):
    table(catalog, "es-catalog")
    download_csv(catalog, "events")
for event in events.itertuples():
    with st.expander(f"{event.headline}", expanded=len(events) == 1):
        precision = "to the minute" if event.time_precision == "minute" else "date only"
        st.markdown(f"**Announced** {event.announced_at:%Y-%m-%d %H:%M} UTC ({precision}; market time: "
                    f"{event.market_time}) · **tickers** {', '.join(event.tickers)} · **providers** "
                    f"{', '.join(event.providers) or '—'}")
        if event.notes:
            st.caption(event.notes)
        for url in event.source_urls:
            st.markdown(f"- <{url}>")
day0 = tables.day0[tables.day0["event_id"].isin(chosen)]
table(day0, "es-day0")
download_csv(day0, "event study day 0")

media = event_study.media_comparison(events, tables, made_up.prices)
for row in media[media["synthetic"]].itertuples():
    st.info(f"The media reported **{row.ticker} {row.reported:+.2%}** for this announcement. {row.ticker}'s prices "
            "here are synthetic demo data (`python -m etl demo`), so that real figure cannot be compared with a "
            "move on this page; load real prices (`python -m etl prices fetch`) to compare.",
            icon=":material/science:")
for row in media[media["differs"]].itertuples():
    st.warning(f"The media reported **{row.ticker} {row.reported:+.2%}** for this announcement; close to close on "
               f"day 0 ({row.day0:%Y-%m-%d}) it moved **{row.close_to_close:+.2%}**. Headline figures are often "
               "intraday or after-hours moves; this page reports close-to-close.", icon=":material/newspaper:")

# --- CAR paths ------------------------------------------------------------------------------------------------
paths = event_study.car_paths(tables)
if paths.empty:
    st.info("No ticker could be studied; the reasons are below.", icon=":material/info:")
else:
    st.subheader("Cumulative abnormal return around day 0")
    studied = list(dict.fromkeys(paths["ticker"]))
    banded = None
    if paths.groupby("event_id")["ticker"].nunique().max() > charts.MAX_BANDS:
        banded = st.multiselect("95 % bands for", studied, default=studied[:charts.MAX_BANDS], key="es_bands",
                                max_selections=charts.MAX_BANDS, bind="query-params",
                                help=f"At most {charts.MAX_BANDS} bands per chart, so they stay readable.")
    st.caption(f"One chart per event: each ticker's CAR ({MODEL_LABELS[tables.settings.model]}) from day "
               f"{paths['relative_day'].min()} with its 95 % band (at most {charts.MAX_BANDS} per chart); the "
               "dotted line is day 0.")
    headlines = dict(zip(events["event_id"], events["headline"], strict=True))
    per_event = [(event_id, paths[paths["event_id"] == event_id]) for event_id in chosen
                 if event_id in set(paths["event_id"])]  # in the order chosen
    for row in range(0, len(per_event), CHARTS_PER_ROW):
        columns = st.columns(min(len(per_event), CHARTS_PER_ROW))
        for column, (event_id, rows) in zip(columns, per_event[row:row + CHARTS_PER_ROW], strict=False):
            title = shorten(headlines.get(event_id, event_id), 60, placeholder="…")
            column.plotly_chart(figure(charts.car_paths, rows, title, banded), width="stretch",
                                key=f"es-paths-{event_id}")
    download_csv(paths, "event study car paths")

# --- results --------------------------------------------------------------------------------------------------
st.subheader("Abnormal returns per ticker and window")
st.caption("CAR: cumulative abnormal return; BHAR: buy-and-hold abnormal return; CAR t: the ticker's time-series "
           "t (CAR / (s·√L)), with its two-sided p-value and stars (* 10 %, ** 5 %, *** 1 %).")
results = tables.results[["event_id", "ticker", "benchmark", "window", "window_start", "window_end", "days", "car",
                          "bhar", "car_t", "car_t_p", "stars"]]
table(results, "es-results", first=("event_id", "ticker", "window", "car", "car_t_p", "stars"))
download_csv(results, "event study results")

st.subheader("Cross-section per window")
st.caption("Across the tickers of each event that share a benchmark: CAAR and mean BHAR with their tests (t, Brown & "
           "Warner 1985, Patell, BMP, Corrado/Cowan rank, Lamb, the Kolari-Pynnönen corrections for clustered events, "
           "GRANK, BHAR t and skewness-adjusted t) with p-values and stars; hover a header for what a test does. With "
           "one ticker the cross-sectional tests do not apply (empty).")
cross = tables.cross[["event_id", "benchmark", "window", "n", "days", "caar", "mean_daily_aar", "bhar_mean", "r_bar",
                      *CAR_STATISTICS, *(f"{s}_p" for s in CAR_STATISTICS), *(f"{s}_stars" for s in CAR_STATISTICS)]]
table(cross, "es-cross", helps=event_study.statistic_help(cross.columns))
download_csv(cross, "event study cross section")

with st.expander("Daily statistics (AAR and every daily test)"):
    daily = tables.cross_daily[["event_id", "benchmark", "relative_day", "date", "n", "aar", "r_bar",
                                *DAILY_STATISTICS, *(f"{s}_p" for s in DAILY_STATISTICS),
                                *(f"{s}_stars" for s in DAILY_STATISTICS)]]
    table(daily, "es-daily", helps=event_study.statistic_help(daily.columns))
    download_csv(daily, "event study daily statistics")

st.subheader("Estimation facts")
facts = tables.results.drop_duplicates(["event_id", "ticker", "benchmark"])[
    ["event_id", "ticker", "benchmark", "estimation_start", "estimation_end", "T", "alpha", "beta", "r2", "s"]]
table(facts, "es-facts")
download_csv(facts, "event study estimation facts")

left_out = tables.pairs[tables.pairs["status"] != "computed"]
if not left_out.empty:
    st.subheader("Excluded, skipped or failed")
    table(left_out, "es-left-out")
    download_csv(left_out, "event study exclusions")
overlaps = tables.overlaps[tables.overlaps["event_id"].isin(chosen)]
if not overlaps.empty:
    st.subheader("Overlapping events")
    st.caption("Another announcement for the same ticker falls in this event's windows or estimation period, so "
               "its move is mixed into this one's.")
    table(overlaps, "es-overlaps")
    download_csv(overlaps, "event study overlaps")
