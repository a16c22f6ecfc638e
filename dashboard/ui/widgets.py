"""Small reusable pieces of UI: CSV downloads, the synthetic-data label, empty and error states."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard.queries.meta import WarehouseSummary

LOAD_HINT = (
    "Load data with `python -m etl demo` (synthetic demo data, offline) or "
    "`python -m etl billing load PATH...` (your exports), then reload this page."
)


def download_csv(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    """A download button with exactly the rows and columns shown next to it."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    st.download_button(label, frame.to_csv(index=False).encode("utf-8"), file_name=f"{slug}.csv",
                       mime="text/csv", key=f"download-{slug}", icon=":material/download:")


def synthetic_label(summary: WarehouseSummary) -> None:
    if summary.synthetic:
        st.warning("**Synthetic demo data.** The billing accounts named `DEMO …` were made up by "
                   "`python -m etl demo`; they are not real spend.", icon=":material/science:")


def empty_warehouse(reason: str) -> None:
    st.info(f"{reason}\n\n{LOAD_HINT}", icon=":material/database:")


def query_failed(error: Exception) -> None:
    st.error(f"The query failed: {error}", icon=":material/error:")
