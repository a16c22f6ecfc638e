"""Ad-hoc SQL on the published warehouse: ``python -m etl sql`` and the dashboard's SQL console.

:mod:`etl.adhoc.statement` lets through exactly one query, judged by DuckDB's own parser; :mod:`etl.adhoc.sandbox`
runs it on a hardened, read-only, time-, memory- and row-limited connection of its own. Neither imports Streamlit.
"""
