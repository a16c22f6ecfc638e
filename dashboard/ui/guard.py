"""Run a cached query for a page and turn the two expected failures into friendly messages.

A missing warehouse shows which command loads data; a failed query shows its error. Either way the page
stops there (``st.stop``), never with a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NoReturn, TypeVar

import streamlit as st

from dashboard.queries import meta
from dashboard.queries.meta import WarehouseSummary
from dashboard.queries.reader import QueryError, Reader
from dashboard.services.settings import StudyConfig
from dashboard.ui.cache import cached
from dashboard.ui.context import AppContext, app_context
from dashboard.ui.widgets import empty_warehouse, invalid_setting, query_failed
from etl.warehouse import WarehouseMissingError

T = TypeVar("T")


def load(function: Callable[..., T], reader: Reader, **params: Hashable) -> T:
    """``cached(function, reader, **params)``; on a missing warehouse or a query error, a message and stop."""
    try:
        return cached(function, reader, **params)
    except WarehouseMissingError:
        stop(empty_warehouse, "There is no warehouse yet.")
    except (QueryError, ValueError) as exc:
        stop(query_failed, exc)


def spend_page(title: str) -> tuple[AppContext, WarehouseSummary]:
    """The start of a page about spend: its title, the context, and a stop with the loading hint when the
    warehouse holds no billing data yet."""
    st.title(title)
    ctx = app_context()
    facts = load(meta.summary, ctx.reader)
    if facts.empty:
        stop(empty_warehouse, "No billing data is loaded yet.")
    return ctx, facts


def study_config(ctx: AppContext) -> StudyConfig:
    """The ``eventstudy.*`` settings; a malformed one is shown with its reason and stops the page."""
    try:
        return StudyConfig.from_config(ctx.config)
    except ValueError as exc:
        stop(invalid_setting, exc)


def stop(show: Callable[..., None], *args: object) -> NoReturn:
    show(*args)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest
