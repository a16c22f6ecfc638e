"""Anomalies: days of unusually high spend, as the ETL stored them, with the events around each one.

A thin page over ``dashboard.queries.anomalies``: nothing is computed here (the ETL's ``anomalies`` step scores the
series, README "Anomalies"); the filters are kept in the URL.
"""

import streamlit as st

from dashboard.formats import money
from dashboard.queries import anomalies
from dashboard.ui.guard import load, start_page
from dashboard.ui.tables import OWN_CURRENCY
from dashboard.ui.widgets import download_csv, synthetic_label, table
from etl.market.tickers import provider_tickers

ctx, facts = start_page("Anomalies", requires=("billing",))
synthetic_label(facts)
run = load(anomalies.latest_run, ctx.reader)
if run.run_id is None:
    st.info("No anomaly run is stored yet: `python -m etl anomalies run` (or the nightly `python -m etl run`) scores "
            "the daily spend series.", icon=":material/troubleshoot:")
    st.stop()

# --- filters (sidebar; kept in the URL) ---------------------------------------------------------------------
first, last = run.first_day or run.window_start, run.last_day or run.data_until
with st.sidebar:
    st.subheader("Filters")
    picked = st.date_input("Period", value=(first, last), min_value=first, max_value=last, key="an_dates",
                           bind="query-params")
    providers = st.multiselect("Providers", run.providers, key="an_providers", bind="query-params",
                               placeholder="All providers")
    levels = st.multiselect("Series", list(anomalies.LEVEL_LABELS), format_func=anomalies.LEVEL_LABELS.get,
                            key="an_levels", bind="query-params", placeholder="Every level",
                            help="All providers, one provider, one service or one billing account.")
    severities = st.multiselect("Severity", list(anomalies.SEVERITIES), format_func=str.title,
                                key="an_severities", bind="query-params", placeholder="Every severity")
basis = st.segmented_control("Currency", ["reporting", "billing"], default="reporting", required=True,
                             format_func={"reporting": f"Converted to {ctx.currency}",
                                          "billing": "As billed (each billing currency)"}.get,
                             key="an_basis", bind="query-params") or "reporting"
start, end = (picked[0], picked[-1]) if isinstance(picked, tuple | list) and picked else (first, last)
flt = anomalies.AnomalyFilter(start=start, end=end, basis=basis, providers=tuple(providers), levels=tuple(levels),
                              severities=tuple(severities))
found = load(anomalies.anomaly_list, ctx.reader, flt=flt, tickers=tuple(sorted(provider_tickers(ctx.config).items())))

measure = (run.measure or "effective_cost").replace("_", " ")
st.caption(f"Days whose {measure} was unusually high for its series, against the series' own trend and weekly "
           f"pattern (robust STL, README \"Anomalies\"). Latest run {run.run_id} at {run.finished_at:%Y-%m-%d %H:%M} "
           f"UTC scored {run.series_scored} series from {run.window_start} to {run.data_until} "
           f"({run.series_skipped} too short to score). Events are the catalog's announcements about the provider "
           f"within {anomalies.EVENT_DAYS} days.")
cols = st.columns(3)
cols[0].metric("Anomalies", f"{len(found):,}", border=True)
cols[1].metric("High severity", f"{int((found['severity'] == 'high').sum()):,}", border=True)
if basis == "reporting":
    cols[2].metric("Excess over the expected range", money(found["excess"].sum(), ctx.currency), border=True,
                   help="Spend above the upper end of each day's expected range, added up (levels overlap: a "
                        "service's excess is in its provider's too).")
else:
    cols[2].metric("With events nearby", f"{int(found['events'].notna().sum()):,}", border=True)

if found.empty:
    st.success("No anomaly in this selection.", icon=":material/check_circle:")
else:
    table(found, "anomalies",
          ctx.currency if basis == "reporting" else OWN_CURRENCY,
          first=("date", "series", "severity", "actual", "expected", "excess", "excess_pct", "events"),
          labels={"expected_low": "Expected from", "expected_high": "Expected up to",
                  "excess": "Excess", "excess_pct": "Above expected (%)", "z": "Robust z", "level": "Level",
                  "events": "Events nearby"},
          formats={"excess_pct": "%+.1f %%", "z": "%.1f"},
          helps={"excess": "Actual minus the upper end of the expected range.",
                 "z": "(actual - expected) / robust scale (1.4826 x the median absolute residual of 8 weeks)."})
download_csv(found, "anomalies")
