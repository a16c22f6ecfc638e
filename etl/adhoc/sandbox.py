"""The sandbox that runs an analyst's query on the published warehouse.

Every query gets a DuckDB instance of its own (never a shared mutable connection): an in-memory instance that
attaches the published file READ_ONLY as a fresh snapshot (``etl.warehouse.connect_readonly``), and then, before the
query runs,

- turns external access off: no file or URL is read or written (``read_csv``, ``read_text``, ``glob``, ``COPY``,
  ``ATTACH`` of a file and ``INSTALL`` are refused), and extensions are neither loaded nor installed. The one
  file still readable is the warehouse itself (DuckDB allows the files of attached databases, e.g. to
  ``read_blob``), which holds nothing a query could not read anyway;
- has no temporary directory, so a query that outgrows ``memory_limit`` fails instead of spilling to disk;
- limits memory, threads and the statement's run time (``max_execution_time``, which also covers fetching);
- locks the configuration, so no ``SET`` can undo any of it.

Opening the file itself with ``read_only=True`` would leave no writable in-memory catalog, but DuckDB refuses a
second connection to a file with another configuration in the same process (the dashboard's readers) and caches
that instance per path (a stale snapshot after a publish). The in-memory catalog is reachable only by statements
that :func:`etl.adhoc.statement.single_query` refuses (``USE``, ``CREATE``, ``ATTACH``, ``DETACH``).

Rows are fetched up to ``max_rows`` + 1 from DuckDB's streaming result, so a result of millions of rows is cut
after its first rows instead of being computed whole; the extra row only says it was cut.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl.adhoc.statement import QueryRefusedError, single_query
from etl.config import Config
from etl.warehouse import connect_readonly

log = logging.getLogger(__name__)


class QueryFailedError(RuntimeError):
    """DuckDB could not run the query (a syntax error, an unknown column, the time or memory limit): its message."""


@dataclass(frozen=True)
class Limits:
    """What one ad-hoc query may use (settings ``sql.*``)."""

    time_limit_s: float = 5.0
    max_rows: int = 10_000
    memory_limit: str = "1GB"
    threads: int = 2

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        return cls(config.get("sql.time_limit_s"), config.get("sql.max_rows"), config.get("sql.memory_limit"),
                   config.get("sql.threads"))

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0 or self.max_rows < 1 or self.threads < 1:
            raise ValueError(f"ad-hoc SQL limits must be positive: time limit {self.time_limit_s:g} s, "
                             f"{self.max_rows} rows, {self.threads} threads (settings sql.*)")


@dataclass(frozen=True)
class QueryResult:
    """The first ``max_rows`` rows of a query; ``truncated`` when it had more."""

    columns: tuple[str, ...]
    types: tuple[str, ...]  # DuckDB's type names: BIGINT, DECIMAL(38,12), ...
    rows: list[tuple]
    truncated: bool
    seconds: float

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame; a repeated column name (``SELECT *`` over a join) gets its number: ``id (2)``."""
        seen: dict[str, int] = {}
        names = []
        for name in self.columns:
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
        return pd.DataFrame.from_records(self.rows, columns=names, nrows=len(self.rows))


def run_query(path: Path, sql: str, limits: Limits) -> QueryResult:
    """Run one read-only query (see the module docstring). Raises :class:`QueryRefusedError` for a statement that may
    not run or touches what the sandbox forbids, :class:`QueryFailedError` with DuckDB's message for any other error,
    and ``WarehouseMissingError`` when there is no warehouse."""
    try:
        statement = single_query(sql)
    except duckdb.ParserException as exc:
        raise _failed(exc, limits) from exc
    except QueryRefusedError as exc:
        log.info("ad-hoc query refused: %s", exc)
        raise
    started = time.perf_counter()
    try:
        con = open_sandbox(path, limits)
    except duckdb.Error as exc:  # e.g. a malformed sql.memory_limit, or a file that is no DuckDB warehouse
        log.info("ad-hoc query failed: cannot open the sandbox: %s", str(exc).splitlines()[0])
        raise QueryFailedError(f"cannot open the sandbox on {path} (settings sql.*): {exc}") from exc
    try:
        cursor = con.execute(statement)
        rows = cursor.fetchmany(limits.max_rows + 1)
        description = cursor.description or []
    except duckdb.PermissionException as exc:
        log.info("ad-hoc query refused by the sandbox: %s", str(exc).splitlines()[0])
        raise QueryRefusedError(str(exc)) from exc
    except duckdb.Error as exc:
        raise _failed(exc, limits) from exc
    finally:
        con.close()
    result = QueryResult(tuple(d[0] for d in description), tuple(str(d[1]) for d in description),
                         rows[:limits.max_rows], len(rows) > limits.max_rows, time.perf_counter() - started)
    log.info("ad-hoc query: %d rows%s in %.2f s", len(result.rows), " (truncated)" if result.truncated else "",
             result.seconds)
    return result


def open_sandbox(path: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    """The hardened connection of one query (see the module docstring); close it when done."""
    con = connect_readonly(path, config={
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "temp_directory": "",
        "memory_limit": limits.memory_limit,
        "threads": limits.threads,
        "max_execution_time": max(1, round(limits.time_limit_s * 1000)),  # milliseconds
    })
    try:  # after the ATTACH, which reads the file
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _failed(exc: duckdb.Error, limits: Limits) -> QueryFailedError:
    message = str(exc).strip()
    if isinstance(exc, duckdb.InterruptException):
        message = f"stopped at the time limit of {limits.time_limit_s:g} s (setting sql.time_limit_s): {message}"
    log.info("ad-hoc query failed: %s", message.splitlines()[0])
    return QueryFailedError(message)
