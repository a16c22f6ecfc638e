"""Short-lived read-only access to the published warehouse.

Each query opens a private read-only snapshot (``etl.warehouse.connect_readonly``), runs, and closes it, so the
dashboard never holds a lock or a stale instance that would block or hide the ETL's next publish. A function
whose queries must agree with each other runs them in one :meth:`Reader.snapshot`. Results are cached by the UI
layer keyed on :meth:`Reader.version`, which changes with every publish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from etl.warehouse import connect_readonly

T = TypeVar("T")


class QueryError(RuntimeError):
    """A dashboard query failed; the message is safe to show to the user."""


class Snapshot:
    """One open read-only snapshot: the queries of a function that must see the same published file (and pay
    for one open instead of one per query). Get one with :meth:`Reader.snapshot`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """This snapshot itself, so that code written for a :class:`Reader` also runs inside a snapshot."""
        yield self

    def frame(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run one SELECT and return its rows as a DataFrame."""
        return self.using(lambda con: con.execute(sql, params or []).df())

    def row(self, sql: str, params: list | dict | None = None) -> tuple:
        """Run one SELECT and return its first row as Python values (dates stay ``datetime.date``)."""
        return self.using(lambda con: con.execute(sql, params or []).fetchone())

    def using(self, function: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``function(connection)``, for code that takes a DuckDB connection (``etl.events.store.read_events``,
        ``etl.status.recent_loads``)."""
        try:
            return function(self._con)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from exc


@dataclass(frozen=True)
class Reader:
    """The published warehouse file; every call opens its own snapshot (see the module docstring)."""

    path: Path

    def version(self) -> str | None:
        """Identity of the published file (inode and modification time); None when there is no warehouse."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return f"{stat.st_ino}:{stat.st_mtime_ns}"

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A private read-only snapshot, open for the ``with`` block."""
        try:
            con = connect_readonly(self.path)  # WarehouseMissingError propagates: the UI shows how to load data
        except duckdb.Error as exc:  # e.g. not a DuckDB file, or one written by a newer DuckDB
            raise QueryError(f"cannot open the warehouse {self.path}: {str(exc).splitlines()[0]}") from exc
        try:
            yield Snapshot(con)
        finally:
            con.close()

    def frame(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        with self.snapshot() as snapshot:
            return snapshot.frame(sql, params)

    def row(self, sql: str, params: list | dict | None = None) -> tuple:
        with self.snapshot() as snapshot:
            return snapshot.row(sql, params)

    def using(self, function: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self.snapshot() as snapshot:
            return snapshot.using(function)


Queryable = Reader | Snapshot  # what a query function reads from: one snapshot per call, or a shared one
