"""Export the warehouse's ``cost`` rows as a Hive-partitioned Parquet lake that other engines read.

Layout: ``DIR/provider=<slug>/billing_period=<YYYY-MM-DD>/part-<n>.parquet``, one partition per
ServiceProviderName and BillingPeriodStart (its date). The files hold every column of the ``cost`` view under
its FOCUS name, costs in the warehouse's ``DECIMAL(38,12)``, timestamps as UTC instants (``TIMESTAMPTZ``), Tags as
JSON text and the provenance columns ``x_*``. The partition keys are named apart from those columns (BigQuery
refuses a partition key that is also a column of the files) and their values need no encoding in any engine:
the provider's slug is its name in lower case with every run of other characters than ``a-z0-9`` turned into
``-`` (``Google Cloud`` is ``google-cloud``), so no engine has to agree on how ``%20`` decodes.

Writing never touches the warehouse: it reads a read-only snapshot (``connect_readonly``). Each export plans the
partitions with one aggregate query, compares each one's content fingerprint with ``_spendscope_manifest.json``
and rewrites only the changed ones: one ``COPY ... PARTITION_BY`` into a staging folder inside DIR, then each
partition folder is renamed into place (the previous one renamed away first and removed afterwards). A failure
before a partition's rename leaves its previous files in place; see README "Larger scale" for the guarantees.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from etl.loadlog import CurrencyTotal
from etl.warehouse import connect_readonly, fsync

log = logging.getLogger(__name__)

# Bump when the files' columns or encoding change: every partition is then rewritten by the next export.
LAYOUT_VERSION = 1
MANIFEST = "_spendscope_manifest.json"
LOCK = "_spendscope_export.lock"
STAGING_PREFIX = "_staging-"  # engines skip names starting with '_' or '.' (Spark, pyarrow, Trino, Hive)
PROVIDER_KEY = "provider"
PERIOD_KEY = "billing_period"
# the provider's slug; a name without any a-z0-9 character gets a stable one from its hash
_SLUG = ("coalesce(nullif(trim(regexp_replace(lower(strip_accents(ServiceProviderName)), '[^a-z0-9]+', '-', 'g'), "
         "'-'), ''), 'p-' || left(md5(ServiceProviderName), 8))")


class LakeError(RuntimeError):
    """The lake cannot be written as asked (held by another export, or two providers share a slug)."""


@dataclass(frozen=True)
class Selection:
    """Which partitions an export looks at: some providers (ServiceProviderName), billing periods (any date of
    the month), and periods since a month; empty means all."""

    providers: tuple[str, ...] = ()
    periods: tuple[date, ...] = ()
    since: date | None = None

    def sql(self) -> tuple[str, list[Any]]:
        """The WHERE clause over ``cost`` and its parameters."""
        clauses, params = ["true"], []
        if self.providers:
            clauses.append("list_contains(?, ServiceProviderName)")
            params.append(list(self.providers))
        if self.periods:
            clauses.append("list_contains(?, CAST(date_trunc('month', BillingPeriodStart) AS DATE))")
            params.append([_month(p) for p in self.periods])
        if self.since:
            clauses.append("BillingPeriodStart >= ?")
            params.append(_month(self.since))
        return " AND ".join(clauses), params

    def covers(self, provider: str, period: date) -> bool:
        """Whether a partition already in the lake is one this selection looks at."""
        return ((not self.providers or provider in self.providers)
                and (not self.periods or _month(period) in {_month(p) for p in self.periods})
                and (not self.since or period >= _month(self.since)))

    @property
    def everything(self) -> bool:
        return not (self.providers or self.periods or self.since)


EVERYTHING = Selection()


@dataclass(frozen=True)
class Partition:
    """One provider's billing period as the warehouse holds it: its rows, totals per currency and fingerprint."""

    provider: str
    slug: str
    period: date
    rows: int
    fingerprint: str
    totals: tuple[CurrencyTotal, ...]

    @property
    def path(self) -> str:
        """Its folder, relative to the lake."""
        return f"{PROVIDER_KEY}={self.slug}/{PERIOD_KEY}={self.period.isoformat()}"

    def entry(self, exported_at: datetime) -> dict[str, Any]:
        """Its line of the manifest."""
        return {"ServiceProviderName": self.provider, "BillingPeriodStart": self.period.isoformat(),
                "rows": self.rows, "fingerprint": self.fingerprint, "exported_at": exported_at.isoformat(),
                "totals": [{"currency": t.currency, "rows": t.rows, "billed": str(t.billed),
                            "effective": str(t.effective)} for t in self.totals]}


@dataclass
class ExportReport:
    """What an export did: partitions written and unchanged, and partitions of the lake (within the selection)
    that the warehouse no longer has, which are kept as they are."""

    lake: Path
    written: list[Partition] = field(default_factory=list)
    unchanged: list[Partition] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)  # manifest entries, with their "path"

    @property
    def rows_written(self) -> int:
        return sum(p.rows for p in self.written)

    def counts(self) -> str:
        """One line for the run's step table and the CLI's last line."""
        total = len(self.written) + len(self.unchanged)
        kept = f"; {len(self.kept)} kept (no longer in the warehouse)" if self.kept else ""
        return (f"{total} partition{'s' if total != 1 else ''}: {len(self.written)} written, "
                f"{len(self.unchanged)} unchanged{kept}; {self.rows_written:,} rows written to {self.lake}")


def export_lake(db: Path, lake: Path, selection: Selection = EVERYTHING, *, force: bool = False,
                duckdb_config: dict[str, str | int | bool] | None = None) -> ExportReport:
    """Export the selected partitions of the warehouse at ``db`` into ``lake`` (created when missing), rewriting
    only those whose content changed (all of them with ``force``)."""
    lake.mkdir(parents=True, exist_ok=True)
    report = ExportReport(lake)
    with _exclusive(lake):
        _remove_leftovers(lake)
        manifest = _read_manifest(lake)
        con = connect_readonly(db, duckdb_config)
        try:
            columns = _columns(con)
            planned = _plan(con, columns, selection)
            _check_slugs(planned, manifest)
            for partition in planned:
                stored = manifest.get(partition.path, {})
                current = stored.get("fingerprint") == partition.fingerprint and (lake / partition.path).is_dir()
                (report.unchanged if current and not force else report.written).append(partition)
            log.info("lake %s: %d partitions selected, %d to write", lake, len(planned), len(report.written))
            if report.written:
                _write(con, columns, lake, report.written, manifest)
        finally:
            con.close()
        report.kept = _vanished(lake, manifest, {p.path for p in planned}, selection)
    return report


def _vanished(lake: Path, manifest: dict[str, dict[str, Any]], planned: set[str],
              selection: Selection) -> list[dict[str, Any]]:
    """Selected partitions of the lake that the warehouse no longer has: kept as they are and reported (deleting
    exported data is left to a person). One whose folder was deleted is dropped from the manifest."""
    gone = [path for path in manifest if path not in planned and not (lake / path).is_dir()]
    for path in gone:
        log.info("lake partition %s: its folder was removed, dropped from the manifest", path)
        del manifest[path]
    if gone:
        _write_manifest(lake, manifest)
    kept = [{"path": path, **entry} for path, entry in sorted(manifest.items()) if path not in planned
            and selection.covers(entry["ServiceProviderName"], date.fromisoformat(entry["BillingPeriodStart"]))]
    for entry in kept:
        log.warning("lake partition %s kept: the warehouse no longer has rows of %s %s", entry["path"],
                    entry["ServiceProviderName"], entry["BillingPeriodStart"])
    return kept


def _columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The ``cost`` view's columns and types, in order."""
    return con.execute("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_catalog = current_database() AND table_name = 'cost' "
                       "ORDER BY ordinal_position").fetchall()


def _exported(name: str, data_type: str) -> str:
    """A column as the files hold it: timestamps as UTC instants, JSON as text, everything else as stored."""
    quoted = f'"{name}"'
    if data_type == "TIMESTAMP":
        return f"CAST({quoted} AS TIMESTAMPTZ) AS {quoted}"  # connect_readonly sets TimeZone = 'UTC'
    if data_type == "JSON":
        return f"CAST({quoted} AS VARCHAR) AS {quoted}"
    return quoted


def _plan(con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]], selection: Selection) -> list[Partition]:
    """Every selected partition with its rows, totals per currency and fingerprint, in one aggregate query. The
    fingerprint sums a hash of every column of every row, so any change of content (a reload, a restated
    month, a removed row) changes it."""
    where, params = selection.sql()
    row_hash = "hash(" + ", ".join(f'"{name}"' for name, _ in columns) + ")"
    rows = con.execute(
        f"""
        SELECT ServiceProviderName, {_SLUG}, CAST(BillingPeriodStart AS DATE), BillingCurrency, count(*),
               sum(BilledCost), sum(EffectiveCost), sum({row_hash}::HUGEINT)
        FROM cost WHERE {where}
        GROUP BY ALL ORDER BY ALL
        """, params).fetchall()
    grouped: dict[tuple[str, str, date], list[tuple[str, int, Decimal, Decimal, int]]] = {}
    for provider, slug, period, currency, count, billed, effective, digest in rows:
        grouped.setdefault((provider, slug, period), []).append((currency, count, billed, effective, digest))
    partitions = []
    for (provider, slug, period), currencies in grouped.items():
        content = json.dumps([LAYOUT_VERSION, columns, [(c, n, str(h)) for c, n, _, _, h in currencies]])
        partitions.append(Partition(
            provider, slug, period, sum(n for _, n, _, _, _ in currencies),
            hashlib.sha256(content.encode()).hexdigest(),
            tuple(CurrencyTotal(c, n, billed, effective) for c, n, billed, effective, _ in currencies)))
    return partitions


def _check_slugs(planned: Sequence[Partition], manifest: dict[str, dict[str, Any]]) -> None:
    """Two provider names must never share a folder (``Google Cloud`` and ``google-cloud`` would)."""
    owners = {path.split("/")[0]: entry["ServiceProviderName"] for path, entry in manifest.items()}
    for partition in planned:
        folder = partition.path.split("/")[0]
        owner = owners.setdefault(folder, partition.provider)
        if owner != partition.provider:
            raise LakeError(f"providers {owner!r} and {partition.provider!r} would share the lake folder {folder}; "
                            "rename one with the providers.aliases setting")


def _write(con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]], lake: Path,
           partitions: list[Partition], manifest: dict[str, dict[str, Any]]) -> None:
    """Write the partitions into a staging folder with one COPY, then rename each one into place; the manifest
    records every partition renamed in, also when a later one fails."""
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=lake))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE lake_selected (provider VARCHAR, period DATE)")
        con.executemany("INSERT INTO temp.lake_selected VALUES (?, ?)", [(p.provider, p.period) for p in partitions])
        select = ", ".join(_exported(name, data_type) for name, data_type in columns)
        [(copied,)] = con.execute(
            f"""
            COPY (
                SELECT {select}, {_SLUG} AS {PROVIDER_KEY}, strftime(BillingPeriodStart, '%Y-%m-%d') AS {PERIOD_KEY}
                FROM cost SEMI JOIN temp.lake_selected AS s
                    ON ServiceProviderName = s.provider AND CAST(BillingPeriodStart AS DATE) = s.period
            ) TO '{_sql_str(str(staging / "data"))}'
            (FORMAT parquet, PARTITION_BY ({PROVIDER_KEY}, {PERIOD_KEY}), FILENAME_PATTERN 'part-{{i}}',
             COMPRESSION zstd)
            """).fetchall()
        expected = sum(p.rows for p in partitions)
        if copied != expected:
            raise LakeError(f"COPY wrote {copied} rows where the plan counted {expected}; nothing was replaced")
        now = datetime.now(UTC)
        for partition in partitions:
            new = staging / "data" / partition.path
            _fsync_tree(new)
            _swap_in(new, lake / partition.path, staging / "replaced" / partition.path)
            manifest[partition.path] = partition.entry(now)
            log.info("lake partition %s written: %s %s, %d rows", partition.path, partition.provider,
                     partition.period, partition.rows)
    finally:
        _write_manifest(lake, manifest)
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(new: Path, final: Path, displaced: Path) -> None:
    """Put the folder ``new`` at ``final``. An existing ``final`` is renamed to ``displaced`` first (its files are
    removed with the staging folder); should the second rename fail, it is renamed back."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        displaced.parent.mkdir(parents=True, exist_ok=True)
        os.rename(final, displaced)
        try:
            os.rename(new, final)
        except OSError:
            os.rename(displaced, final)
            raise
    else:
        os.rename(new, final)
    fsync(final.parent)


def _read_manifest(lake: Path) -> dict[str, dict[str, Any]]:
    """The partitions of the last exports (empty for a new lake, or one of an older layout)."""
    path = lake / MANIFEST
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return document["partitions"] if document.get("layout") == LAYOUT_VERSION else {}


def _write_manifest(lake: Path, partitions: dict[str, dict[str, Any]]) -> None:
    document = {"layout": LAYOUT_VERSION, "partition_keys": [PROVIDER_KEY, PERIOD_KEY],
                "partitions": dict(sorted(partitions.items()))}
    temporary = lake / f"{MANIFEST}.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, lake / MANIFEST)
    fsync(lake)


@contextlib.contextmanager
def _exclusive(lake: Path) -> Iterator[None]:
    """One export at a time per lake; a second one fails at once instead of racing the first's renames."""
    with (lake / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LakeError(f"{lake}: another export is writing this lake") from None
        yield


def _remove_leftovers(lake: Path) -> None:
    """Staging folders and manifest copies of an export that was killed (we hold the lake's lock)."""
    for leftover in [*lake.glob(f"{STAGING_PREFIX}*"), *lake.glob(f"{MANIFEST}.*.tmp")]:
        log.info("removing %s, left by an interrupted export", leftover)
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()


def _fsync_tree(folder: Path) -> None:
    """Flush the files a COPY wrote to disk before they are renamed into place."""
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    fsync(folder)


def _month(day: date) -> date:
    return day.replace(day=1)


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
