"""Streamlit-side helpers shared by the pages: caching, context, and small reusable widgets."""
