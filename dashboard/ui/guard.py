"""The start of every page, and its cached reads: one guard for what can stand between a page and its data.

:func:`start_page` shows the title and checks the warehouse once (``meta.summary``, cached per warehouse
version): a missing warehouse says which command loads data, one older than this code's schema says to run
``python -m etl init`` (so no query needs to check whether a newer table exists), and a page that needs
billing data, prices or events says which command loads them. :func:`load` runs a cached query or service and
turns a failed query into its message. Either way the page stops there (``st.stop``), never with a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Literal, NoReturn, TypeVar

import streamlit as st

from dashboard.queries import meta
from dashboard.queries.meta import WarehouseSummary
from dashboard.queries.reader import QueryError, Reader
from dashboard.services.settings import StudyConfig
from dashboard.ui.cache import cached
from dashboard.ui.context import AppContext, app_context
from dashboard.ui.widgets import empty_warehouse, invalid_setting, needs, query_failed, upgrade_needed
from etl.freshness import Freshness
from etl.warehouse import WarehouseMissingError, latest_schema_version

T = TypeVar("T")
Data = Literal["billing", "prices", "events"]

_REQUIRED: dict[str, tuple[Callable[[WarehouseSummary], bool], Callable[[], None]]] = {
    "billing": (lambda facts: not facts.empty, partial(empty_warehouse, "No billing data is loaded yet.")),
    "prices": (lambda facts: facts.tickers > 0,
               partial(needs, "No prices are loaded yet: run `python -m etl prices fetch` (or `python -m etl prices "
                              "import FILE...`), then reload this page.")),
    "events": (lambda facts: facts.events > 0,
               partial(needs, "No events yet: `python -m etl init` loads the catalog, `python -m etl events add` "
                              "adds your own.")),
}


def start_page(title: str, requires: tuple[Data, ...] = ()) -> tuple[AppContext, WarehouseSummary]:
    """The title, the context and the warehouse's summary; stops with a message when the warehouse is missing,
    unreadable or older than this code, or holds none of the data in ``requires``."""
    st.title(title)
    ctx = app_context()
    facts = load(meta.summary, ctx.reader)
    if facts.outdated:
        stop(upgrade_needed, facts.schema_version, latest_schema_version())
    for data in requires:
        present, show = _REQUIRED[data]
        if not present(facts):
            stop(show)
    return ctx, facts


def load(function: Callable[..., T], reader: Reader, **params: Hashable) -> T:
    """``cached(function, reader, **params)``; on a missing warehouse or a query error, a message and stop."""
    try:
        return cached(function, reader, **params)
    except WarehouseMissingError:
        stop(empty_warehouse, "There is no warehouse yet.")
    except (QueryError, ValueError) as exc:
        stop(query_failed, exc)


def study_config(ctx: AppContext) -> StudyConfig:
    """The ``eventstudy.*`` settings; a malformed one is shown with its reason and stops the page."""
    try:
        return StudyConfig.from_config(ctx.config)
    except ValueError as exc:
        stop(invalid_setting, exc)


def freshness_settings(ctx: AppContext) -> Freshness:
    """The ``freshness.*`` settings; a malformed one is shown with its reason and stops the page."""
    try:
        return Freshness.from_config(ctx.config)
    except ValueError as exc:
        stop(invalid_setting, exc)


def stop(show: Callable[..., None], *args: object) -> NoReturn:
    show(*args)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest
