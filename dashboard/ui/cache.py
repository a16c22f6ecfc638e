"""Query results cached per warehouse version: a finished ETL run is seen on the next rerun, no restart.

:func:`cached` calls a query function of ``dashboard.queries`` through ``st.cache_data`` with the warehouse's
version (inode and mtime of the published file) in the key. Results are copies (``cache_data``), bounded
by count and age; the reader's connection is held per published file (``dashboard.queries.reader``), not here.
:func:`figure` builds a chart once per distinct input data, so a rerun that changes nothing does not rebuild it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import plotly.graph_objects as go
import streamlit as st

from dashboard.queries.reader import Reader

T = TypeVar("T")


def cached(function: Callable[..., T], reader: Reader, **params: Hashable) -> T:
    """``function(reader, **params)``, cached until the warehouse is republished (or for an hour)."""
    return _cached_call(f"{function.__module__}:{function.__qualname__}", str(reader.path), reader.version(),
                        tuple(sorted(params.items())))


@st.cache_data(ttl=3600, max_entries=500, show_spinner=False)
def _cached_call(name: str, path: str, version: str | None, params: tuple[tuple[str, Any], ...]) -> Any:
    module, qualname = name.split(":")
    function = getattr(importlib.import_module(module), qualname)
    return function(Reader(Path(path)), **dict(params))


def figure(builder: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """``builder(*args, **kwargs)`` (a function of ``dashboard.charts``), built once per distinct input: the inputs
    (the cached query results, by content) are the key, so a rerun whose data did not change reuses the figure
    (plotly validates every property it builds, most of a warm rerun's time). One figure is shared by every
    session, never copied: only read it (``st.plotly_chart``, ``charts.figure_frame``)."""
    return _figure(f"{builder.__module__}:{builder.__qualname__}", args, kwargs)


@st.cache_resource(ttl=3600, max_entries=100, show_spinner=False)
def _figure(name: str, args: tuple, kwargs: dict[str, Any]) -> go.Figure:
    module, qualname = name.split(":")
    return getattr(importlib.import_module(module), qualname)(*args, **kwargs)
