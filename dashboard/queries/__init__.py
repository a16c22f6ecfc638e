"""Read-only queries of the warehouse for the dashboard. No Streamlit here: every function takes a
:class:`~dashboard.queries.reader.Reader` and plain arguments and returns a pandas DataFrame or a value."""
