"""Short-lived read-only access to the published warehouse.

Each query opens a private read-only snapshot (``etl.warehouse.connect_readonly``), runs, and closes it, so the
dashboard never holds a lock or a stale instance that would block or hide the ETL's next publish. Results are
cached by the UI layer keyed on :meth:`Reader.version`, which changes with every publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from etl.warehouse import connect_readonly

T = TypeVar("T")


class QueryError(RuntimeError):
    """A dashboard query failed; the message is safe to show to the user."""


@dataclass(frozen=True)
class Reader:
    path: Path

    def version(self) -> str | None:
        """Identity of the published file (inode and modification time); None when there is no warehouse."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return f"{stat.st_ino}:{stat.st_mtime_ns}"

    def frame(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run one SELECT and return its rows as a DataFrame."""
        return self._run(sql, params, lambda result: result.df())

    def row(self, sql: str, params: list | dict | None = None) -> tuple:
        """Run one SELECT and return its first row as Python values (dates stay ``datetime.date``)."""
        return self._run(sql, params, lambda result: result.fetchone())

    def using(self, function: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``function(connection)`` on a private read-only snapshot, for code that takes a DuckDB connection
        (``etl.events.store.read_events``, ``etl.eventstudy.warehouse.compute_event_studies``)."""
        con = connect_readonly(self.path)
        try:
            return function(con)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from exc
        finally:
            con.close()

    def has_relation(self, name: str) -> bool:
        """Whether a table or view of that name exists (an older warehouse may lack newer ones)."""
        return bool(self.row("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'wh' "
                             "AND table_name = ?", [name])[0])

    def _run(self, sql: str, params: list | dict | None, fetch: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        try:
            con = connect_readonly(self.path)  # WarehouseMissingError propagates: the UI shows how to load data
        except duckdb.Error as exc:  # e.g. not a DuckDB file, or one written by a newer DuckDB
            raise QueryError(f"cannot open the warehouse {self.path}: {str(exc).splitlines()[0]}") from exc
        try:
            return fetch(con.execute(sql, params or []))
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from exc
        finally:
            con.close()
