"""Small reusable pieces of UI: CSV downloads, the synthetic-data label, empty and error states."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.queries.meta import SyntheticMarket, WarehouseSummary
from dashboard.services.periods import PartialPeriod
from dashboard.ui import tables

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
    """Label billing data written by ``python -m etl demo`` (its loads record ``load_log.synthetic``) as such."""
    if summary.synthetic:
        st.warning("**Synthetic demo data.** Billing data in this warehouse was made up by `python -m etl demo` "
                   "(view `synthetic_data` lists it); it is not real spend.", icon=":material/science:")


def empty_warehouse(reason: str) -> None:
    st.info(f"{reason}\n\n{LOAD_HINT}", icon=":material/database:")


def needs(what: str) -> None:
    """A page cannot show something until a command has run (an upgrade, a fetch): say which."""
    st.info(what, icon=":material/info:")


def upgrade_needed(version: int, latest: int) -> None:
    st.info(f"This warehouse is at schema version {version}, older than this dashboard's {latest}: run "
            "`python -m etl init` to upgrade it, then reload this page.", icon=":material/update:")


def query_failed(error: Exception) -> None:
    st.error(f"The query failed: {error}", icon=":material/error:")


def invalid_setting(error: Exception) -> None:
    st.error(f"A setting cannot be used: {error}", icon=":material/settings:")


def synthetic_market_label(flags: SyntheticMarket, what: str = "market data") -> None:
    """Label market data written by ``python -m etl demo`` (synthetic prices or FX rates) as such."""
    parts = []
    if flags.prices:
        parts.append(f"prices of {', '.join(flags.prices)}")
    if flags.fx:
        parts.append(f"FX rates of {', '.join(flags.fx)}")
    if parts:
        st.warning(f"**Synthetic {what}.** The {' and the '.join(parts)} were made up by `python -m etl demo`; "
                   "they are not real market data.", icon=":material/science:")


def unconverted_warning(frame: pd.DataFrame, currency: str, key: str) -> None:
    """The amounts a conversion into ``currency`` could not convert, per original currency, shown apart from the
    totals (never added in), with their CSV."""
    if frame.empty:
        return
    parts = [f"**{row.currency} {row.amount:,.2f}** ({row.rows:,} cost rows, {row.first_day:%Y-%m-%d} to "
             f"{row.last_day:%Y-%m-%d}: {row.fx_issue})" for row in frame.itertuples()]
    st.warning(f"Not included in the {currency} amounts on this page, for want of a usable exchange rate: "
               + "; ".join(parts) + ". Load the missing rates with `python -m etl fx fetch`.",
               icon=":material/currency_exchange:")
    with st.expander("Amounts without a rate"):
        table(frame, f"{key}-unconverted", tables.OWN_CURRENCY)
        download_csv(frame, f"{key} amounts without a rate")


def table(frame: pd.DataFrame, key: str, currency: str | None = None, *, labels: Mapping[str, str] | None = None,
          formats: Mapping[str, str] | None = None, first: Sequence[str] = (), raw_names: bool = False,
          helps: Mapping[str, str] | None = None) -> None:
    """``st.dataframe`` of ``frame`` as :func:`dashboard.ui.tables.present` shows it (see there for the
    arguments): human labels, formatted numbers and dates, the currency of the amounts in their headers, and the
    ``helps`` tooltips on the headers."""
    shown = tables.present(frame, currency, labels=labels, formats=formats, first=first, raw_names=raw_names,
                           helps=helps)
    st.dataframe(shown.frame, hide_index=True, width="stretch", key=key, column_config=shown.config,
                 column_order=shown.order or None, placeholder=tables.MISSING)


def partial_caption(partial: Mapping[date, PartialPeriod]) -> None:
    """Under a chart with hatched bars: which periods the range covers only in part, so their lower bars are
    not read as drops."""
    if partial:
        st.caption("Hatched bars: periods only partly in the range, so their totals are not comparable ("
                   + "; ".join(f"{p.start:%Y-%m-%d} {p.note}" for p in partial.values()) + ").")
