"""How a table is shown: human column labels, amounts with thousands separators and their currency in the
header, fractions as percentages, dates as dates, durations in days, blanks instead of ``None``, the answering
columns first and long text last.

:func:`present` decides all of it from the column names and types, so every table of every page looks alike;
``widgets.table`` draws its result. Only the display changes: the CSV download next to a table keeps the raw
frame. A missing value is drawn as :data:`MISSING` (``st.dataframe``'s ``placeholder``, which ``widgets.table``
passes), never as Streamlit's default ``None``; numbers and dates keep their types, so every column sorts as what it
holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import streamlit as st

OWN_CURRENCY = "own currency"  # ``currency`` of a table whose amounts are in each row's own currency
AMOUNTS = frozenset({"amount", "billed_cost", "effective_cost", "list_cost", "previous", "current", "change",
                     "actual", "expected", "expected_low", "expected_high", "excess",
                     "used_cost", "unused_cost", "eligible_cost", "covered_cost", "on_demand_cost"})
FRACTIONS = frozenset({"car", "bhar", "caar", "aar", "mean_daily_aar", "bhar_mean", "car_m1_p1",
                       "utilization", "coverage"})  # and share_*
DAYS = frozenset({"days_behind", "lag_days"})
LONG_TEXT = frozenset({"headline", "error", "detail", "reason", "rule", "source", "car_note", "fx_issue",
                       "dismiss_reason", "notes", "events"})
MISSING = "–"  # how a missing value is drawn (an en dash, not Streamlit's "None")
WHOLE_TEXT = "Long text is cut at the column's width: double-click a cell to read all of it."
FORMATS = {"alpha": "%.5f", "beta": "%.3f", "r2": "%.3f", "s": "%.4f", "last_rate": "%.4f", "relative_day": "%d"}
LABELS = {
    "event_id": "Event", "car_m1_p1": "CAR[-1,+1]", "car": "CAR", "bhar": "BHAR", "caar": "CAAR", "aar": "AAR",
    "mean_daily_aar": "Mean daily AAR", "bhar_mean": "Mean BHAR", "car_t": "CAR t", "car_t_p": "CAR t p-value",
    "stars": "Significance", "n": "Tickers", "T": "Estimation sessions", "alpha": "α", "beta": "β", "r2": "R²",
    "s": "Residual s.d.", "day0": "Day 0", "relative_day": "Session (day 0 = 0)", "account": "Billing account",
    "account_name": "Billing account name", "data_until": "Data until",
    "days_behind": "Days behind", "lag_days": "Expected lag (days)", "last_load": "Last load", "load_id": "Load",
    "fx_issue": "FX issue", "first_session": "First session", "last_session": "Last session",
    "latest_closed": "Latest closed session", "sessions_behind": "Sessions behind", "quote_currency": "Quote currency",
    "last_rate": "Last rate", "first_date": "First rate date", "last_date": "Last rate date", "service_name": "Service",
    "service_category": "Service category", "car_source": "CAR from", "car_note": "CAR note",
    "car_m1_p1_p": "CAR[-1,+1] p-value", "car_m1_p1_stars": "Significance",
    "dismissed_by": "Dismissed by", "dismiss_reason": "Dismiss reason", "window_start": "Window start",
    "window_end": "Window end", "days": "Days", "change_pct": "Change (%)", "r_bar": "Residual correlation r̄",
}
_WORDS = {"car": "CAR", "caar": "CAAR", "aar": "AAR", "bhar": "BHAR", "bmp": "BMP", "fx": "FX", "id": "ID",
          "brown": "Brown", "warner": "Warner", "patell": "Patell", "wilcoxon": "Wilcoxon", "p": "p-value",
          "pp": "(pp)", "stars": "stars", "kp": "KP", "grank": "GRANK", "lamb": "Lamb", "corrado": "Corrado",
          "skew": "skewness-adjusted"}
_SHARE = re.compile(r"share_(before|after)_(\d+)d")
_CHANGE = re.compile(r"change_(\d+)d_pp")
_COMPLETE = re.compile(r"complete_(\d+)d")


def label(name: str) -> str:
    """A column's header: from :data:`LABELS`, a share/change/completeness column of N days, or the snake_case
    name in words (``brown_warner_1985_p`` -> ``Brown Warner 1985 p-value``)."""
    if name in LABELS:
        return LABELS[name]
    if match := _SHARE.fullmatch(name):
        return f"Share {match[2]}d {match[1]}"
    if match := _CHANGE.fullmatch(name):
        return f"Share change {match[1]}d"
    if match := _COMPLETE.fullmatch(name):
        return f"{match[1]}d windows loaded"
    words = [_WORDS.get(word, word) for word in name.split("_") if word]
    text = " ".join(words) or name
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class Shown:
    """What :func:`present` returns: the frame to draw, its column order and its ``column_config``."""

    frame: pd.DataFrame
    order: list[str]
    config: dict


def present(frame: pd.DataFrame, currency: str | None = None, *, labels: Mapping[str, str] | None = None,
            formats: Mapping[str, str] | None = None, first: Sequence[str] = (), raw_names: bool = False,
            helps: Mapping[str, str] | None = None) -> Shown:
    """The display of ``frame``. ``currency``: that of its amount columns (:data:`AMOUNTS`), a code or
    :data:`OWN_CURRENCY`; required when it has any. ``labels`` and ``formats`` (a Streamlit NumberColumn format)
    override the defaults per column; ``first`` are the columns that answer the page's question, shown first;
    ``helps`` are the tooltips of column headers (what a column means).
    ``raw_names``: keep the column names as headers (a SQL query's result, whose names the user wrote)."""
    amounts = [c for c in frame.columns if c in AMOUNTS]
    if amounts and not currency and not raw_names:
        raise ValueError(f"amount columns {amounts} need their currency")
    labels, formats, helps = dict(labels or {}), dict(formats or {}), dict(helps or {})
    shown = frame.copy()
    config: dict = {}
    for name in frame.columns:
        header = name if raw_names else labels.get(name) or label(name)
        if name in AMOUNTS and not raw_names:
            header = f"{header} ({currency})"
        config[name], shown[name] = _column(name, frame[name], header, formats.get(name), raw_names, helps.get(name))
    return Shown(shown, [] if raw_names else _order(list(frame.columns), first, currency), config)


def _order(columns: list[str], first: Sequence[str], currency: str | None) -> list[str]:
    """``first``, then the rest with an own-currency table's currency column just before its first amount, and
    long text last."""
    first = [c for c in first if c in columns]
    rest = [c for c in columns if c not in first]
    if currency == OWN_CURRENCY and "currency" in rest and AMOUNTS & set(rest):
        rest.remove("currency")
        at = next(i for i, c in enumerate(rest) if c in AMOUNTS)
        rest.insert(at, "currency")
    return [*first, *(c for c in rest if c not in LONG_TEXT), *(c for c in rest if c in LONG_TEXT)]


def _column(name: str, values: pd.Series, header: str, fmt: str | None, raw_names: bool,
            help_text: str | None) -> tuple[dict, pd.Series]:
    """The column config of one column and the values to draw."""
    if pd.api.types.is_bool_dtype(values):
        return st.column_config.CheckboxColumn(header, help=help_text), values
    if pd.api.types.is_numeric_dtype(values):
        fmt = fmt or _number_format(name, values, raw_names)
        return st.column_config.NumberColumn(header, format=fmt, help=help_text), values
    if pd.api.types.is_datetime64_any_dtype(values) or _is_dates(values):
        stamps = pd.to_datetime(values)
        timed = not stamps.dropna().eq(stamps.dropna().dt.normalize()).all()
        if timed and not raw_names:
            header = f"{header} (UTC)"
        if timed:
            return st.column_config.DatetimeColumn(header, format="YYYY-MM-DD HH:mm", help=help_text), values
        return st.column_config.DateColumn(header, format="YYYY-MM-DD", help=help_text), values
    if values.map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
        return st.column_config.ListColumn(header, help=help_text), values
    if name in LONG_TEXT:
        return st.column_config.TextColumn(header, width="large", help=help_text or WHOLE_TEXT), values
    return st.column_config.TextColumn(header, help=help_text), values


def _is_dates(values: pd.Series) -> bool:
    """An object column of ``datetime.date`` values, as DuckDB's DATE arrives in some queries."""
    present_values = values.dropna()
    return values.dtype == object and len(present_values) > 0 and present_values.map(
        lambda v: isinstance(v, date | datetime)).all()


def _number_format(name: str, values: pd.Series, raw_names: bool) -> str | None:
    if raw_names:
        return None
    if name in AMOUNTS:
        return "%,.2f"
    if name in FRACTIONS or _SHARE.fullmatch(name):
        return "percent"
    if _CHANGE.fullmatch(name):
        return "%+.2f pp"  # percentage points
    if name in DAYS:
        return "%,d" if pd.api.types.is_integer_dtype(values) else "%,.1f"
    if name in FORMATS:
        return FORMATS[name]
    if name.endswith("_p"):
        return "%.3f"
    if name.endswith("_id"):
        return "%d"
    if pd.api.types.is_integer_dtype(values):
        return "%,d"
    return "%,.2f"
