"""Data health: is every feed fresh, what failed and why."""

from datetime import UTC, datetime

import _bootstrap  # before any dashboard import: puts the repository root on sys.path
import streamlit as st

from dashboard.queries import health, meta
from dashboard.ui.guard import load, start_page
from dashboard.ui.signin import open_note
from dashboard.ui.widgets import download_csv, empty_warehouse, synthetic_label, synthetic_market_label, table

_bootstrap.through_router()
AMOUNTS = {"billed_cost": st.column_config.NumberColumn("billed", format="%.2f"),
           "effective_cost": st.column_config.NumberColumn("effective", format="%.2f")}
STALE = {"stale": st.column_config.CheckboxColumn("stale")}
ctx, facts = start_page("Data health")  # no data required: a first load that failed is shown here
open_note()
stale_after = ctx.config.get("freshness.billing_hours")
now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)  # per minute, so the cache is reused
feeds = load(health.billing_feeds, ctx.reader, now=now, stale_after_hours=stale_after)
failing = load(health.failing_sources, ctx.reader)
loads = load(health.recent_loads, ctx.reader)

synthetic_label(facts)
st.subheader("Billing feeds")
st.caption(f"Exports are expected daily: a feed is stale when its last successful load is more than "
           f"{stale_after:g} hours old (setting `freshness.billing_hours`). Amounts are in each row's own "
           "currency.")
if feeds.empty:
    empty_warehouse("No billing data is loaded yet.")
else:
    stale = int(feeds["stale"].sum())
    cols = st.columns(3)
    cols[0].metric("Billing feeds", len(feeds.groupby(["provider", "account"])))
    cols[1].metric("Stale feeds", stale)
    cols[2].metric("Sources failing", len(failing))
    table(feeds, "billing-feeds", column_config=AMOUNTS | STALE)
    download_csv(feeds, "billing feeds")

st.subheader("Failing sources")
if failing.empty:
    st.success("The latest load of every source succeeded.", icon=":material/check_circle:")
else:
    table(failing, "failing-sources")
    download_csv(failing, "failing sources")

st.subheader("Recent loads")
table(loads, "recent-loads")
download_csv(loads, "recent loads")

# --- market data: prices and FX rates -----------------------------------------------------------------------
st.subheader("Market data")
synthetic_market_label(load(meta.synthetic_market, ctx.reader))
prices_after = ctx.config.get("freshness.prices_hours")
fx_after = ctx.config.get("freshness.fx_hours")
price_feeds = load(health.price_feeds, ctx.reader, now=now, stale_after_hours=prices_after)
fx_feeds = load(health.fx_feeds, ctx.reader, now=now, stale_after_hours=fx_after)
st.caption(f"A ticker is stale when its latest stored session ended more than {prices_after:g} hours ago (setting "
           f"`freshness.prices_hours`), an FX pair when its latest rate is more than {fx_after:g} hours old "
           "(`freshness.fx_hours`); both counted from the end (24:00 UTC) of that day. `loaded_at` is when the "
           "rows were last written.")
st.markdown(f"**Prices per ticker**: {len(price_feeds)} ticker{'s' * (len(price_feeds) != 1)}, "
            f"{int(price_feeds['stale'].sum())} stale")
if price_feeds.empty:
    st.info("No prices yet: `python -m etl prices fetch` (or `python -m etl prices import FILE...`).",
            icon=":material/candlestick_chart:")
else:
    table(price_feeds, "price-feeds", column_config=STALE)
    download_csv(price_feeds, "price feeds")
st.markdown(f"**FX rates per pair**: {len(fx_feeds)} pair{'s' * (len(fx_feeds) != 1)}, "
            f"{int(fx_feeds['stale'].sum())} stale")
if fx_feeds.empty:
    st.info("No FX rates yet: `python -m etl fx fetch`.", icon=":material/currency_exchange:")
else:
    table(fx_feeds, "fx-feeds", column_config=STALE)
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
    table(coverage, "fx-coverage", column_config=AMOUNTS)
    download_csv(coverage, "fx coverage")
