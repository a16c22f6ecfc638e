"""Read-only access to the published warehouse through one held connection per published file.

The ETL never writes the published file: it publishes a new one with ``os.replace`` (a new inode), so a read-only
connection held on the file blocks nothing and keeps answering from the file it opened, unchanged. The reader
therefore keeps one read-only connection (``etl.warehouse.connect_readonly``) per published file identity (inode
and modification time), and opens a new one when the identity changes, so a publish is seen by the next query and
no query pays for opening the file. The superseded connection is closed once its last query ends (it holds the old,
unlinked file until then).

Each query runs on its own cursor of the held connection (``etl.warehouse.readonly_cursor``), so Streamlit's script
threads query in parallel. A function whose queries must agree with each other runs them in one
:meth:`Reader.snapshot`: its cursor stays on the file it started with, whatever is published meanwhile. Results are
cached by the UI layer keyed on :meth:`Reader.version`, the same identity.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from etl.warehouse import WarehouseMissingError, connect_readonly, readonly_cursor

log = logging.getLogger(__name__)

T = TypeVar("T")
Identity = tuple[int, int]  # (st_ino, st_mtime_ns) of the published file

MAX_HELD = 4  # warehouse paths with a held connection per process (the dashboard reads one; tests read many)


class QueryError(RuntimeError):
    """A dashboard query failed; the message is safe to show to the user."""


class Snapshot:
    """One cursor on one published file: the queries of a function that must see the same published file. Get one
    with :meth:`Reader.snapshot`."""

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
    """The published warehouse file, read through the connection held for its current identity (see the module
    docstring)."""

    path: Path

    def version(self) -> str | None:
        """Identity of the published file (inode and modification time); None when there is no warehouse."""
        identity = _identity(self.path)
        return None if identity is None else f"{identity[0]}:{identity[1]}"

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A cursor on the published file as it is now, open for the ``with`` block."""
        held = _HELD.acquire(self.path)  # WarehouseMissingError propagates: the UI shows how to load data
        try:
            try:
                cursor = readonly_cursor(held.con)
            except duckdb.Error as exc:
                raise QueryError(f"cannot read the warehouse {self.path}: {str(exc).splitlines()[0]}") from exc
            try:
                yield Snapshot(cursor)
            finally:
                cursor.close()
        finally:
            _HELD.release(held)

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


def _identity(path: Path) -> Identity | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@dataclass
class _Connection:
    """A held read-only connection, the file identity it was opened on, and its queries in progress."""

    path: Path
    identity: Identity
    con: duckdb.DuckDBPyConnection
    users: int = 0
    retired: bool = False


class _Registry:
    """The held connections of this process, one per warehouse path (the most recently used :data:`MAX_HELD`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: OrderedDict[Path, _Connection] = OrderedDict()

    def acquire(self, path: Path) -> _Connection:
        """The connection for the file published at ``path`` now (opened if it changed), counted as in use."""
        with self._lock:
            identity = _identity(path)
            held = self._current.get(path)
            if held is None or held.identity != identity:
                if held is not None:
                    self._retire(held)
                held = _open(path)
                self._current[path] = held
                while len(self._current) > MAX_HELD:
                    self._retire(self._current.popitem(last=False)[1])
            self._current.move_to_end(path)
            held.users += 1
            return held

    def release(self, held: _Connection) -> None:
        with self._lock:
            held.users -= 1
            if held.retired and held.users == 0:
                held.con.close()

    def _retire(self, held: _Connection) -> None:
        """Close ``held`` now or, while queries still use it, when the last one ends."""
        held.retired = True
        if held.users == 0:
            held.con.close()
        log.debug("retired the connection to %s (%s:%s)", held.path, *held.identity)


_HELD = _Registry()


def _open(path: Path, attempts: int = 5) -> _Connection:
    """A read-only connection to the file published at ``path`` and its identity: the identity is read before and
    after opening, and must agree (a publish in between would make the connection's file unknown)."""
    for _ in range(attempts):
        before = _identity(path)
        if before is None:
            raise WarehouseMissingError(f"{path}: no warehouse yet; run `python -m etl init` or `python -m etl demo`")
        try:
            con = connect_readonly(path)
        except duckdb.Error as exc:  # e.g. not a DuckDB file, or one written by a newer DuckDB
            raise QueryError(f"cannot open the warehouse {path}: {str(exc).splitlines()[0]}") from exc
        if _identity(path) == before:
            log.info("opened %s read-only (%s:%s)", path, *before)
            return _Connection(path, before, con)
        con.close()
    raise QueryError(f"cannot open the warehouse {path}: it was replaced {attempts} times while being opened")
