"""SpendScope dashboard (Streamlit). ``app.py`` is the entry point; ``app_pages`` is a thin presentation layer over
``queries`` (SQL against the warehouse, no Streamlit import) and ``charts`` (plotly figures, no Streamlit)."""
