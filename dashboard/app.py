"""SpendScope dashboard: ``streamlit run dashboard/app.py``.

The entry point is a router (``st.navigation``); each page in ``dashboard/app_pages`` starts with the guard of
``dashboard/ui/guard.py`` and is a thin layer over ``dashboard/services`` (computations) and
``dashboard/queries`` (SQL). The sign-in gate (``dashboard/ui/signin.py``) decides which pages the visitor gets.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run` puts only dashboard/ on the path

import streamlit as st

from dashboard.queries.meta import summary
from dashboard.queries.reader import QueryError
from dashboard.ui.cache import cached
from dashboard.ui.context import app_context
from dashboard.ui.signin import gate, sidebar, visible
from etl.logs import setup_logging
from etl.warehouse import WarehouseMissingError

st.set_page_config(page_title="SpendScope", page_icon="☁️", layout="wide")  # no web font: works offline

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True,
            help="Spend per provider, service category and service in the reporting currency; top movers."),
    st.Page("app_pages/anomalies.py", title="Anomalies", icon=":material/troubleshoot:", url_path="anomalies",
            help="Days of unusually high spend per provider, service and billing account, with the events around."),
    st.Page("app_pages/spend_vs_market.py", title="Spend vs market", icon=":material/candlestick_chart:",
            url_path="market", help="Each provider's spend next to its parent's stock, with the catalog's events."),
    st.Page("app_pages/event_study.py", title="Event study", icon=":material/query_stats:", url_path="events",
            help="The market's reaction to chosen announcements: CAR paths, every test statistic, estimation facts."),
    st.Page("app_pages/commitments.py", title="Commitments", icon=":material/handshake:", url_path="commitments",
            help="Savings Plans, reservations and committed-use discounts: utilization, unused cost and coverage."),
    st.Page("app_pages/budgets.py", title="Budgets", icon=":material/savings:", url_path="budgets",
            help="Budgets against actual and forecast spend, the thresholds crossed, the forecasts' accuracy."),
    st.Page("app_pages/data_health.py", title="Data health", icon=":material/monitor_heart:", url_path="health",
            help="Freshness of every billing feed, failed loads with their errors, and recent loads."),
    st.Page("app_pages/sql_console.py", title="SQL", icon=":material/terminal:", url_path="sql",
            help="A read-only SQL console on the warehouse, beside the documented views, their columns and examples."),
]

ctx = app_context()
setup_logging(ctx.config.get("log_level"))  # once per process; the gate logs sign-ins and refusals
access = gate(ctx.config)  # stops here with the sign-in, refusal or configuration screen
page = st.navigation(visible(PAGES, access))

with st.sidebar:
    sidebar(access)
    st.caption(f"Warehouse: `{ctx.reader.path}`")
    try:
        facts = cached(summary, ctx.reader)
    except WarehouseMissingError:
        st.caption("No warehouse yet.")
    except QueryError:
        st.caption("The warehouse cannot be read (see the page).")
    else:
        if facts.outdated:
            st.caption("An older warehouse: run `python -m etl init`.")
        if facts.synthetic:
            st.caption(":orange-badge[:material/science: Synthetic demo data]")
        if facts.first_day:
            st.caption(f"Spend from {facts.first_day} to {facts.last_day}")

page.run()
