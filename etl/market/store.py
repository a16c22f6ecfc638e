"""What market loads record: one ``load_log`` row per ticker, FX pair or imported file, and its summary."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from etl.report import format_table

log = logging.getLogger(__name__)


@dataclass
class MarketResult:
    """The outcome of one ticker, FX pair or file, as shown in the summary and stored in ``load_log``."""

    kind: str  # 'prices' | 'fx'
    source: str  # ticker, FX pair (CADUSD=X) or file
    status: str  # loaded | unchanged | failed
    format: str  # 'yahoo', 'csv-yahoo', 'csv-close-dividends'
    subject: str = ""  # ticker or currency the rows belong to
    rows: int = 0  # rows written (new or revised)
    first: date | None = None  # first and last date of what was fetched or read
    last: date | None = None
    files: list[str] = field(default_factory=list)
    sha256: str | None = None
    error: str | None = None
    message: str | None = None
    load_id: int | None = None
    synthetic: bool = False  # made-up demo data (recorded in load_log.synthetic)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('load_id_seq')").fetchall()[0][0]


def log_load(con: duckdb.DuckDBPyConnection, result: MarketResult) -> None:
    """Insert the ``load_log`` row of ``result`` (assigning a load id when it has none)."""
    if result.load_id is None:
        result.load_id = next_load_id(con)
    con.execute(
        """
        INSERT INTO load_log (load_id, kind, source, files, sha256, format, dataset, export_time, rows, totals,
                              status, error, message, started_at, finished_at, synthetic)
        VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, ?, ?, ?, ?, ?, ?)
        """,
        [result.load_id, result.kind, result.source, result.files, result.sha256, result.format, result.rows,
         result.status, result.error, result.message, naive_utc(result.started), naive_utc(datetime.now(UTC)),
         result.synthetic],
    )


@contextlib.contextmanager
def batch_transaction(con: duckdb.DuckDBPyConnection, result: MarketResult, registered: str) -> Iterator[None]:
    """One transaction for one ticker's or pair's rows: the block writes them and sets ``result.rows`` and
    ``result.message``; then the status and the ``load_log`` row follow and it commits (or rolls back on an
    error). ``registered`` is the pandas frame the block reads, unregistered in any case."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        result.status = "loaded" if result.rows else "unchanged"
        log_load(con, result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister(registered)
    log.info("%s %s: %s", result.status, result.source, result.message)


def summary_table(results: list[MarketResult], subject: str = "ticker") -> str:
    rows = [(r.subject or r.source, r.source if r.source != r.subject else "", r.rows,
             r.first or "", r.last or "", r.status, _shorten(r.error or r.message or ""))
            for r in results]
    return format_table([subject, "source", "rows", "from", "to", "status", "detail"], rows)


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _shorten(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
