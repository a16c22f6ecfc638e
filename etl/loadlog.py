"""The load log: one record type for every load (a billing source, a ticker, an FX pair, the event catalog), one
way to write its ``load_log`` row, and one summary table that every command prints at the end of its run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb

from etl.report import format_table
from etl.warehouse import WriteSession


@dataclass(frozen=True)
class CurrencyTotal:
    """Rows and amounts of one billing currency in a load (never added across currencies)."""

    currency: str
    rows: int
    billed: Decimal
    effective: Decimal


@dataclass
class LoadRecord:
    """The outcome of one load, as the run summary shows it and ``load_log`` stores it."""

    kind: str  # billing | prices | fx | events
    source: str  # the file or manifest as given, a ticker, an FX pair (CADUSD=X), a 'demo:…' name
    status: str = "failed"  # loaded | unchanged | superseded | failed; skipped (summary only, never stored)
    format: str | None = None  # the billing adapter, or yahoo, csv-yahoo, csv-close-dividends, synthetic…
    subject: str = ""  # the ticker or currency a market load's rows belong to
    rows: int = 0  # rows written (billing: the load's cost rows; market: new or revised rows)
    totals: list[CurrencyTotal] = field(default_factory=list)  # billing: per currency
    scope: list[tuple[str, str]] = field(default_factory=list)  # billing: (provider, billing account) of its rows
    first: date | None = None  # market: first and last date fetched or read
    last: date | None = None
    files: list[str] = field(default_factory=list)
    sha256: str | None = None
    bytes: int | None = None
    dataset: str | None = None
    export_time: datetime | None = None
    error: str | None = None
    message: str | None = None
    load_id: int | None = None
    synthetic: bool = False  # made-up demo data (load_log.synthetic)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def label(self) -> str:
        """How the summary names it: the ticker or currency of a market load, with its source when that differs."""
        if not self.subject or self.subject == self.source:
            return self.source
        return f"{self.subject} ({self.source})"


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('load_id_seq')").fetchone()[0]


def write(con: duckdb.DuckDBPyConnection, record: LoadRecord) -> None:
    """Insert the ``load_log`` row of ``record``, assigning it a load id when it has none; call it inside the
    transaction of the load it describes, so the row and the rows it counts commit together."""
    if record.load_id is None:
        record.load_id = next_load_id(con)
    totals = [{"currency": t.currency, "rows": t.rows, "billed": t.billed, "effective": t.effective}
              for t in record.totals]
    scope = [{"provider": p, "account": a} for p, a in record.scope]
    con.execute(
        """
        INSERT INTO load_log (load_id, kind, source, files, sha256, bytes, format, dataset, export_time, rows,
                              totals, scope, status, error, message, started_at, finished_at, synthetic)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                ?::STRUCT(currency VARCHAR, rows BIGINT, billed DECIMAL(38, 12), effective DECIMAL(38, 12))[],
                ?::STRUCT(provider VARCHAR, account VARCHAR)[], ?, ?, ?, ?, ?, ?)
        """,
        [record.load_id, record.kind, record.source, record.files, record.sha256, record.bytes, record.format,
         record.dataset, naive_utc(record.export_time), record.rows, totals, scope, record.status, record.error,
         record.message, naive_utc(record.started), naive_utc(datetime.now(UTC)), record.synthetic],
    )


def write_alone(session: WriteSession, record: LoadRecord) -> None:
    """The ``load_log`` row of a load that wrote nothing else (failed or unchanged), in its own transaction."""
    with session.transaction() as con:
        write(con, record)


def summary_table(records: list[LoadRecord]) -> str:
    """One line per load: what, how many rows, what they cover (billed totals per currency, or the dates), the
    status and the detail (error or message, shortened)."""
    rows = [(r.label, r.kind, r.format or "?", r.rows, _covers(r), r.status, shorten(_detail(r))) for r in records]
    return format_table(["source", "kind", "format", "rows", "covers", "status", "detail"], rows)


def format_totals(totals: list[CurrencyTotal]) -> str:
    """Billed totals per currency, never added across currencies: ``USD 12.34; CAD 5.00``."""
    if not totals:
        return "-"
    return "; ".join(f"{t.currency} {t.billed.quantize(Decimal('0.01')):,}" for t in totals)


def naive_utc(moment: datetime | None) -> datetime | None:
    """A timestamp as the warehouse stores it: UTC without a time zone."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def _covers(record: LoadRecord) -> str:
    if record.kind == "billing":
        return format_totals(record.totals)
    if record.first and record.last:
        return f"{record.first} to {record.last}"
    return ""


def _detail(record: LoadRecord) -> str:
    """The error (without the source's name, which the line already shows) or the message."""
    text = record.error or record.message or ""
    return text.removeprefix(f"{record.source}: ")


def shorten(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
