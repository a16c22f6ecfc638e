"""Run a cached query for a page and turn the two expected failures into friendly messages.

A missing warehouse shows which command loads data; a failed query shows its error. Either way the page
stops there (``st.stop``), never with a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NoReturn, TypeVar

import streamlit as st

from dashboard.queries.reader import QueryError, Reader
from dashboard.ui.cache import cached
from dashboard.ui.widgets import empty_warehouse, query_failed
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


def stop(show: Callable[..., None], *args: object) -> NoReturn:
    show(*args)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest
