"""SQL: a console for one read-only query, example queries, and beside it the documented relations and columns."""

import streamlit as st

from dashboard.queries import console
from dashboard.queries.schema import catalog, columns
from dashboard.services import headlines
from dashboard.ui.guard import load, start_page, stop
from dashboard.ui.widgets import download_csv, invalid_setting, table
from etl.adhoc.examples import examples
from etl.adhoc.sandbox import Limits
from etl.adhoc.statement import ALLOWED

ctx, facts = start_page("SQL")
headline = st.empty()  # what the warehouse holds, in one sentence, once its documented relations are read
try:
    limits = Limits.from_config(ctx.config)
except ValueError as exc:
    stop(invalid_setting, exc)
EXAMPLES = {example.title: example for example in examples()}

st.caption(f"One read-only query ({ALLOWED}) on the warehouse, in a sandbox without file access: it is stopped after "
           f"{limits.time_limit_s:g} s and shows at most {limits.max_rows:,} rows (settings `sql.time_limit_s`, "
           "`sql.max_rows`). In a terminal: `python -m etl sql \"…\"`, or `make sql` for the DuckDB CLI, read-only "
           "(a read-write session would block the ETL's publish step).")
live = load(columns, ctx.reader)
headline.markdown(headlines.sql(facts, live["relation"].nunique()))


def use_example() -> None:
    """Put the picked example in the query box (a callback: it runs before the box is drawn)."""
    picked = st.session_state["sql-example"]
    if picked:
        st.session_state["sql-text"] = EXAMPLES[picked].sql


query_side, schema_side = st.columns([3, 2], gap="large")
with query_side:
    st.selectbox("Example queries", list(EXAMPLES), index=None, key="sql-example", on_change=use_example,
                 placeholder="Start from an example…")
    sql = st.text_area("Query", key="sql-text", height=220, placeholder="SELECT … FROM daily_spend …")
    if st.button("Run", key="sql-run", type="primary", icon=":material/play_arrow:"):
        st.session_state["sql-outcome"] = console.run(ctx.reader, sql, limits)
    outcome = st.session_state.get("sql-outcome")
    if outcome is not None and outcome.problem:
        # DuckDB's message, then (after a blank line) where in the query: that part keeps its monospace layout
        reason, _, where = outcome.message.partition("\n\n")
        st.error(f"**{'Refused' if outcome.problem == 'refused' else 'The query failed'}:** {reason}"
                 + (f"\n\n```\n{where}\n```" if where else ""),
                 icon=":material/block:" if outcome.problem == "refused" else ":material/error:")
    elif outcome is not None:
        result = outcome.result
        if result.truncated:
            st.warning(f"**Truncated at {limits.max_rows:,} rows**: the query returns more. Narrow it (`WHERE`, "
                       "`GROUP BY`, `LIMIT`), or run it with `python -m etl sql --format csv --max-rows N`.",
                       icon=":material/content_cut:")
        st.caption(f"{len(result.rows):,} row{'' if len(result.rows) == 1 else 's'}, {len(result.columns)} "
                   f"column{'' if len(result.columns) == 1 else 's'}, in {result.seconds:.2f} s")
        frame = result.frame()
        table(frame, "sql-result", raw_names=True)
        download_csv(frame, "query result")

with schema_side:
    st.markdown("**Relations**")
    for relation in catalog():
        with st.expander(f"`{relation.name}` ({relation.kind})", expanded=relation.name == "cost"):
            st.markdown(relation.description)
            shown = live[live["relation"] == relation.name][["column", "type"]]
            table(shown, f"columns-{relation.name}")
            download_csv(shown, f"columns of {relation.name}")
            for example in relation.examples:
                st.code(example, language="sql")
