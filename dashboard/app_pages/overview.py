"""Overview: where the compute money goes, per provider, in the reporting currency.

A thin page: the guard, filters (kept in the URL), then cached query functions of ``dashboard.queries.spend``
(nothing here is computed beyond SQL, so no service sits between; ``dashboard.services.periods`` only names the
top movers' periods) and the figures of ``dashboard.charts``.
Every chart and table has a CSV download of exactly what it shows.
"""

import streamlit as st

from dashboard import charts
from dashboard.formats import money, money_short
from dashboard.queries import anomalies, forecasts, meta, spend
from dashboard.services import headlines
from dashboard.services.forecast_view import forecast_series, shows_forecast
from dashboard.services.periods import MOVER_PERIODS, mover_periods, partial_periods
from dashboard.ui import ai_compute
from dashboard.ui.cache import figure
from dashboard.ui.forecast import forecast_tiles
from dashboard.ui.guard import load, start_page
from dashboard.ui.widgets import (
    download_csv,
    partial_caption,
    synthetic_label,
    synthetic_market_label,
    table,
    unconverted_warning,
)

ctx, facts = start_page("Overview", requires=("billing",))
headline = st.empty()  # the page's answer in one sentence, written once the filtered figures are loaded
currency, max_age = ctx.currency, ctx.max_rate_age_days
synthetic_label(facts)
synthetic_market_label(load(meta.synthetic_market, ctx.reader), "exchange rates")
options = load(spend.filter_options, ctx.reader)
accounts = dict(options.accounts)

# --- filters (sidebar; every one is kept in the URL, so a link reopens this view) ---------------------------
with st.sidebar:
    st.subheader("Filters")
    picked = st.date_input("Date range", value=(options.first_day, options.last_day), min_value=options.first_day,
                           max_value=options.last_day, key="ov_dates", bind="query-params")
    providers = st.multiselect("Providers", options.providers, key="ov_providers", bind="query-params",
                               placeholder="All providers")
    account_ids = st.multiselect("Billing accounts", list(accounts), format_func=accounts.get, key="ov_accounts",
                                 bind="query-params", placeholder="All billing accounts")
    categories = st.multiselect("Service categories", options.categories, key="ov_categories",
                                bind="query-params", placeholder="All service categories")
    keys = load(spend.tag_keys, ctx.reader, start=options.first_day, end=options.last_day)
    tag_key = st.selectbox("Tag", keys, index=None, key="ov_tag_key", bind="query-params",
                           placeholder="No tag filter", help="Filters on the cost rows' tags (a tag's value as "
                                                             "text), from the daily rollup per tag.")
    tag_value = None
    if tag_key:
        values = load(spend.tag_values, ctx.reader, key=tag_key, start=options.first_day, end=options.last_day)
        tag_value = st.selectbox(f"Value of `{tag_key}`", list(values["value"]), index=None, key="ov_tag_value",
                                 bind="query-params", placeholder="Pick a value")

start, end = (picked[0], picked[-1]) if isinstance(picked, tuple | list) and picked else (options.first_day,
                                                                                          options.last_day)
measure = st.segmented_control("Cost basis", list(spend.MEASURES), default="effective", required=True,
                               format_func=spend.MEASURE_LABELS.get, key="ov_basis", bind="query-params",
                               help="Effective cost: amortized commitments, net of discounts and credits (the "
                                    "default). Billed cost: as invoiced. List cost: at public list prices.")
flt = spend.SpendFilter(start=start, end=end, currency=currency, measure=measure or "effective",
                        max_age_days=max_age, providers=tuple(providers), accounts=tuple(account_ids),
                        categories=tuple(categories), tag_key=tag_key if tag_value else None,
                        tag_value=tag_value if tag_key else None)
label = spend.MEASURE_LABELS[flt.measure]
scope = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}" + (f", tag `{tag_key}` = `{tag_value}`" if flt.tagged else "")
st.caption(f"{label} in {currency} (setting `reporting_currency`), {scope}. Costs in other currencies are converted "
           f"with the rate of their charge date or the latest earlier one, at most {max_age} days older "
           "(`fx.max_rate_age_days`).")

# --- KPI tiles ----------------------------------------------------------------------------------------------
k = load(spend.kpis, ctx.reader, flt=flt)
assert k.as_of is not None  # the guard stopped a page without billing data
mom, share, ai = k.month_over_month, k.top_provider_share, k.ai_compute_share
by_provider = load(spend.spend_by, ctx.reader, flt=flt, by="provider", top=1000)
headline.markdown(headlines.overview(k, len(by_provider), start, end, currency, label))
first = st.columns(3)
first[0].metric(f"Spend {k.this_month_start:%b %Y}", money_short(k.this_month, currency), border=True,
                help=f"{label} from {k.this_month_start} to {k.as_of} (to date when the range ends mid-month).")
first[1].metric(f"Spend {k.last_month_start:%b %Y}", money_short(k.last_month, currency), border=True,
                help=f"{label} of the whole month before.")
first[2].metric("Month over month", "–" if mom is None else f"{mom:+.1%}", border=True,
                help=f"{k.this_month_start:%b} 1–{k.as_of.day} against the same days of {k.last_month_start:%B}, "
                     "so a month in progress compares like with like.")
second = st.columns(3)
second[0].metric("Spend in the range", money_short(k.total, currency), border=True,
                 help=f"{label} from {start} to {end}.")
second[1].metric(f"Top provider: {k.top_provider or '–'}", "–" if share is None else f"{share:.1%}", border=True,
                 help="The largest provider's share of the range's spend.")
second[2].metric("AI/compute share", "–" if ai is None else f"{ai:.1%}", border=True,
                 help="Share of the range's spend in the FOCUS service categories 'AI and Machine Learning' and "
                      "'Compute'.")
st.caption(f"Exact: {k.this_month_start:%b %Y} to {k.as_of} {money(k.this_month, currency)}; "
           f"{k.last_month_start:%b %Y} {money(k.last_month, currency)} (days 1–{k.as_of.day}: "
           f"{money(k.last_month_same_days, currency)}); range {money(k.total, currency)}, of which "
           f"{k.top_provider or 'the top provider'} {money(k.top_provider_amount, currency)} and AI/compute "
           f"{money(k.ai_compute, currency)}.")
unconverted_warning(load(spend.unconverted, ctx.reader, flt=flt), currency, "overview")
series = forecast_series(providers, narrowed=bool(account_ids or categories or flt.tagged))
forecast_of = {"currency": currency, "measure": spend.MEASURES[flt.measure], "provider": series or ""}
forecast_totals = load(forecasts.forecast_totals, ctx.reader, **forecast_of)
forecast_tiles(forecast_totals, currency, series)

# --- spend over time ----------------------------------------------------------------------------------------
st.subheader("Spend over time")
left, right = st.columns(2)
grain = left.segmented_control("Period", list(spend.GRAINS), default="month", required=True,
                               format_func=lambda g: charts.GRAIN_ADJECTIVES[g], key="ov_grain",
                               bind="query-params") or "month"
by = right.segmented_control("Stacked by", ["provider", "service_category", "service"], default="provider",
                             required=True, format_func=spend.DIMENSION_LABELS.get, key="ov_by",
                             bind="query-params") or "provider"
over_time = load(spend.spend_over_time, ctx.reader, flt=flt, grain=grain, by=by)
partial = partial_periods(max(start, options.first_day), min(end, options.last_day), grain)
over_time_chart = figure(charts.stacked_spend, over_time, by, grain, currency, flt.measure, partial)
marks = load(anomalies.chart_marks, ctx.reader, flt=flt, grain=grain)
over_time_chart = figure(charts.with_anomalies, over_time_chart, marks, grain, currency)
if series is not None and shows_forecast(forecast_totals, end):
    over_time_chart = charts.with_forecast(over_time_chart, forecast_totals,
                                           load(forecasts.forecast_path, ctx.reader, **forecast_of), grain, currency,
                                           series or "total")
st.plotly_chart(over_time_chart, key="ov-over-time", alt=f"{label} per {spend.DIMENSION_LABELS[by].lower()} over time")
partial_caption(partial)
if not marks.empty:
    st.caption(f"★ marks the periods with anomalies: {len(marks)} days of unusually high spend of all providers or "
               "of one provider; the Anomalies page lists them with the events around them.")
download_csv(over_time, f"spend per {grain} and {by}")

# --- breakdowns ---------------------------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    by_category = load(spend.spend_by, ctx.reader, flt=flt, by="service_category")
    st.plotly_chart(figure(charts.spend_bars, by_category, "service_category", currency, flt.measure,
                           f"{label} by service category"), key="ov-by-category",
                    alt=f"{label} by service category")
    download_csv(by_category, "spend by service category")
with right:
    by_service = load(spend.spend_by, ctx.reader, flt=flt, by="service")
    st.plotly_chart(figure(charts.spend_bars, by_service, "service", currency, flt.measure, f"{label} by service"),
                    key="ov-by-service", alt=f"{label} by service, largest first")
    download_csv(by_service, "spend by service")

ai_compute.section(ctx, flt, grain)  # the AI share of compute spend, per provider and over time

# --- top movers ---------------------------------------------------------------------------------------------
st.subheader("Top movers")
compare = st.selectbox("Compare", list(MOVER_PERIODS), format_func=MOVER_PERIODS.get, key="ov_compare",
                       bind="query-params")
current, previous = mover_periods(k.as_of, compare or "month")
st.caption(f"Services whose {label.lower()} changed most from {previous[0]} – {previous[1]} (previous) to "
           f"{current[0]} – {current[1]} (current), in {currency}; the filters apply, the date range only "
           f"through its end ({k.as_of}).")
movers = load(spend.top_movers, ctx.reader, flt=flt, current=current, previous=previous)
if movers.empty:
    st.info("No service's spend changed between these two periods.")
else:
    table(movers, "ov-movers", currency, formats={"change_pct": "%+.1f %%"})
download_csv(movers, "top movers")

