"""The SQL page's console: an analyst's own query on the warehouse the reader reads.

Unlike every other query of the dashboard it does not go through the reader's connection: it runs in the sandbox
of :mod:`etl.adhoc.sandbox` (one hardened, read-only, time-, memory- and row-limited DuckDB instance per query)
after the statement check of :mod:`etl.adhoc.statement`. Its results are not cached: each run reads the warehouse
published at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboard.queries.reader import Reader
from etl.adhoc.sandbox import Limits, QueryFailedError, QueryResult, run_query
from etl.adhoc.statement import QueryRefusedError


@dataclass(frozen=True)
class Outcome:
    """What a run of the console gave: a result, or why there is none (``refused``: the query may not run here;
    ``failed``: DuckDB's error)."""

    sql: str
    result: QueryResult | None = None
    problem: Literal["refused", "failed"] | None = None
    message: str = ""


def run(reader: Reader, sql: str, limits: Limits) -> Outcome:
    try:
        return Outcome(sql, run_query(reader.path, sql, limits))
    except QueryRefusedError as exc:
        return Outcome(sql, problem="refused", message=str(exc))
    except QueryFailedError as exc:
        return Outcome(sql, problem="failed", message=str(exc))
