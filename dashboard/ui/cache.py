"""Query results cached per warehouse version: a finished ETL run is seen on the next rerun, no restart.

:func:`cached` calls a query function of ``dashboard.queries`` through ``st.cache_data`` with the warehouse's
version (inode and mtime of the published file) in the key. Results are copies (``cache_data``), bounded
by count and age; the reader's connection is held per published file (``dashboard.queries.reader``), not here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

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
