"""Data health: is every feed fresh, what failed and why."""

from datetime import UTC, datetime

import streamlit as st

from dashboard.queries import health, meta
from dashboard.services import headlines
from dashboard.ui.guard import freshness_settings, load, start_page
from dashboard.ui.signin import open_note
from dashboard.ui.tables import OWN_CURRENCY
from dashboard.ui.widgets import download_csv, empty_warehouse, synthetic_label, synthetic_market_label, table

FRESHNESS = ("provider", "account", "stale", "days_behind", "data_until")  # what the page answers, first
ctx, facts = start_page("Data health")  # no data required: a first load that failed is shown here
headline = st.empty()  # the page's answer in one sentence, written once every feed is read
open_note()
settings = freshness_settings(ctx)
now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)  # per minute, so the cache is reused
feeds = load(health.billing_feeds, ctx.reader, now=now, settings=settings)
failures = load(health.failures, ctx.reader)
loads = load(health.recent_loads, ctx.reader)
open_failures = failures[failures["state"] == "open"]

synthetic_label(facts)
st.subheader("Billing feeds")
st.caption(f"Freshness by data: a feed (provider and billing account) is stale when its latest charge "
           f"(ChargePeriodEnd) is more days behind now than its expected delivery lag, {settings.billing_lag_days:g} "
           "days (setting `freshness.billing_lag_days`; per provider `freshness.billing_lag_by_provider`). "
           "*Last load* is its last successful load. Amounts are in each row's own currency.")
if feeds.empty:
    empty_warehouse("No billing data is loaded yet.")
else:
    cols = st.columns(3)
    cols[0].metric("Billing feeds", len(feeds.groupby(["provider", "account"])))
    cols[1].metric("Stale feeds", int(feeds.drop_duplicates(["provider", "account"])["stale"].sum()))
    cols[2].metric("Open failures", len(open_failures))
    table(feeds, "billing-feeds", OWN_CURRENCY, first=FRESHNESS, labels={"rows": "Cost rows"})
    download_csv(feeds, "billing feeds")

st.subheader("Open failures")
if open_failures.empty:
    st.success("No failed load is open: every failure was followed by a successful load of its source, or dismissed.",
               icon=":material/check_circle:")
else:
    st.caption("A failed load stays open, and `python -m etl status` exits 1, until a later load of the same source "
               "succeeds. To dismiss one: `python -m etl loads dismiss LOAD_ID --reason \"...\"`.")
    shown = open_failures[["load_id", "kind", "source", "format", "error", "failed_at"]]
    table(shown, "open-failures")
    download_csv(shown, "open failures")
dismissed = failures[failures["state"] == "dismissed"]
if not dismissed.empty:
    st.markdown(f"**Dismissed failures**: {len(dismissed)}")
    shown = dismissed[["load_id", "kind", "source", "error", "failed_at", "dismissed_by", "dismissed_at",
                       "dismiss_reason"]]
    table(shown, "dismissed-failures")
    download_csv(shown, "dismissed failures")

st.subheader("Recent loads")
table(loads, "recent-loads")
download_csv(loads, "recent loads")

# --- market data: prices and FX rates -----------------------------------------------------------------------
st.subheader("Market data")
synthetic_market_label(load(meta.synthetic_market, ctx.reader))
price_feeds = load(health.price_feeds, ctx.reader, now=now, settings=settings)
fx_feeds = load(health.fx_feeds, ctx.reader, now=now, settings=settings)
headline.markdown(headlines.data_health(feeds, len(open_failures), price_feeds, fx_feeds))
st.caption(f"A ticker is stale when its latest stored session is more than {settings.prices_sessions} closed "
           "session(s) of its exchange's calendar behind (setting `freshness.prices_sessions`); *Days behind* counts "
           "calendar days from it to the latest closed session. An FX pair is stale when its latest rate is more "
           f"than {settings.fx_lag_days:g} days old, counted from the end (24:00 UTC) of that day "
           "(`freshness.fx_lag_days`). *Loaded at* is when the rows were last written.")
st.markdown(f"**Prices per ticker**: {len(price_feeds)} ticker{'s' * (len(price_feeds) != 1)}, "
            f"{int(price_feeds['stale'].sum())} stale")
if price_feeds.empty:
    st.info("No prices yet: `python -m etl prices fetch` (or `python -m etl prices import FILE...`).",
            icon=":material/candlestick_chart:")
else:
    table(price_feeds, "price-feeds", first=("ticker", "stale", "sessions_behind", "days_behind"))
    download_csv(price_feeds, "price feeds")
st.markdown(f"**FX rates per pair**: {len(fx_feeds)} pair{'s' * (len(fx_feeds) != 1)}, "
            f"{int(fx_feeds['stale'].sum())} stale")
if fx_feeds.empty:
    st.info("No FX rates yet: `python -m etl fx fetch`.", icon=":material/currency_exchange:")
else:
    table(fx_feeds, "fx-feeds", first=("pair", "stale", "days_behind"))
    download_csv(fx_feeds, "fx feeds")

st.subheader("FX coverage")
currency, max_age = ctx.currency, ctx.max_rate_age_days
coverage = load(health.fx_coverage, ctx.reader, currency=currency, max_age_days=max_age)
st.caption(f"Spend that cannot be shown in the reporting currency {currency} (setting `reporting_currency`): no rate "
           f"on or before the charge date, or only one more than {max_age} days older (`fx.max_rate_age_days`). "
           "Amounts are in each row's own currency; the dashboard shows them apart, never in a converted total.")
if coverage.empty:
    st.success(f"Every cost row can be shown in {currency}.", icon=":material/check_circle:")
else:
    table(coverage, "fx-coverage", OWN_CURRENCY, labels={"rows": "Cost rows"})
    download_csv(coverage, "fx coverage")
