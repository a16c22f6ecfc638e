"""SQL: the documented views and tables, their columns, and example queries to copy."""

import _bootstrap  # before any dashboard import: puts the repository root on sys.path
import streamlit as st

from dashboard.queries.reader import QueryError
from dashboard.queries.schema import catalog, columns
from dashboard.ui.cache import cached
from dashboard.ui.context import app_context
from dashboard.ui.widgets import download_csv, empty_warehouse, query_failed
from etl.warehouse import WarehouseMissingError

_bootstrap.through_router()
st.title("SQL")
st.caption("What analysts can query. Open the warehouse read-only with `duckdb -readonly PATH` (a read-write "
           "session would block the ETL's publish step), or wait for the in-app console.")

ctx = app_context()
try:
    live = cached(columns, ctx.reader)
except WarehouseMissingError:
    empty_warehouse("There is no warehouse yet, so there is no schema to show.")
    st.stop()
except QueryError as exc:
    query_failed(exc)
    st.stop()

for relation in catalog():
    with st.expander(f"`{relation.name}` ({relation.kind})", expanded=relation.name == "cost"):
        st.markdown(relation.description)
        shown = live[live["relation"] == relation.name][["column", "type"]]
        if shown.empty:
            st.caption("Not in this warehouse yet (run `python -m etl init` to upgrade it).")
        else:
            st.dataframe(shown, hide_index=True, width="stretch", key=f"columns-{relation.name}")
            download_csv(shown, f"columns of {relation.name}")
        for example in relation.examples:
            st.code(example, language="sql")
