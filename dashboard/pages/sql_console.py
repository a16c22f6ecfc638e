"""SQL: the documented views and tables, their columns, and example queries to copy."""

import _bootstrap  # before any dashboard import: puts the repository root on sys.path
import streamlit as st

from dashboard.queries.schema import catalog, columns
from dashboard.ui.guard import load, start_page
from dashboard.ui.widgets import download_csv

_bootstrap.through_router()
ctx, _ = start_page("SQL")
st.caption("What analysts can query. Open the warehouse read-only with `duckdb -readonly PATH` (a read-write "
           "session would block the ETL's publish step), or wait for the in-app console.")

live = load(columns, ctx.reader)

for relation in catalog():
    with st.expander(f"`{relation.name}` ({relation.kind})", expanded=relation.name == "cost"):
        st.markdown(relation.description)
        shown = live[live["relation"] == relation.name][["column", "type"]]
        st.dataframe(shown, hide_index=True, width="stretch", key=f"columns-{relation.name}")
        download_csv(shown, f"columns of {relation.name}")
        for example in relation.examples:
            st.code(example, language="sql")
