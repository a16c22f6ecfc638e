"""Data health: is every feed fresh, what failed and why."""

from datetime import UTC, datetime

import streamlit as st

from dashboard.queries import health
from dashboard.ui.cache import cached
from dashboard.ui.context import app_context
from dashboard.ui.widgets import download_csv, empty_warehouse, query_failed
from etl.warehouse import WarehouseMissingError

st.title("Data health")
ctx = app_context()
stale_after = ctx.config.get("freshness.billing_hours")
now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)  # per minute, so the cache is reused

try:
    feeds = cached(health.billing_feeds, ctx.reader, now=now, stale_after_hours=stale_after)
    failing = cached(health.failing_sources, ctx.reader)
    loads = cached(health.recent_loads, ctx.reader)
except WarehouseMissingError:
    empty_warehouse("There is no warehouse yet.")
    st.stop()
except Exception as exc:  # a query error is shown, never a stack trace
    query_failed(exc)
    st.stop()

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
    st.dataframe(feeds, hide_index=True, width="stretch", key="billing-feeds",
                 column_config={"billed_cost": st.column_config.NumberColumn("billed", format="%.2f"),
                                "effective_cost": st.column_config.NumberColumn("effective", format="%.2f"),
                                "stale": st.column_config.CheckboxColumn("stale")})
    download_csv(feeds, "billing feeds")

st.subheader("Failing sources")
if failing.empty:
    st.success("The latest load of every source succeeded.", icon=":material/check_circle:")
else:
    st.dataframe(failing, hide_index=True, width="stretch", key="failing-sources")
    download_csv(failing, "failing sources")

st.subheader("Recent loads")
st.dataframe(loads, hide_index=True, width="stretch", key="recent-loads")
download_csv(loads, "recent loads")
