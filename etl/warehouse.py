"""The warehouse file and the only code that writes to it.

DuckDB lets one process write a file or many processes read it, never both at once. The ETL runs from
cron while the dashboard and analysts read, so writes never touch the published file:

1. A writer takes an exclusive ``flock`` on ``<db>.lock`` (so two ETL runs queue instead of racing).
2. It copies the published file to ``<db>.work-<pid>`` (a reflink where the filesystem offers one, see
   :func:`clone_or_copy`) and opens that copy read-write; migrations, seed tables and views are applied to the
   copy. A file in another storage format than :data:`STORAGE_VERSION`
   (one written by an earlier version of this code) is converted in that copy.
3. The job does its work on the copy through a :class:`WriteSession`, in transactions opened only by
   :meth:`WriteSession.transaction` (commit on success, rollback on any error).
4. On success the copy is checkpointed, closed, fsynced and atomically renamed over the published file
   (``os.replace``). On failure the copy is deleted and the published file is untouched.

Readers therefore never block the ETL and never see a half-done load: a reader that attached the old
file keeps reading that consistent snapshot, a new reader attaches the new one. Readers attach the file
into a private in-memory DuckDB instance (see :func:`connect_readonly`), because a plain
``duckdb.connect(path)`` reuses a process-wide cached instance of the *old* file while any connection to
it is still open.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb

from etl import config as settings
from etl.billing import compute_rollup

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
VIEWS_DIR = SQL_DIR / "views"
SEED_DIR = SQL_DIR / "seed"
MACROS_FILE = SQL_DIR / "macros.sql"

# The on-disk format of the warehouse: the newest storage version the DuckDB CLI pinned in requirements-dev.txt
# (duckdb-cli 1.5.6) reads, shared by every DuckDB 1.5.x. DuckDB 2.0's default format is unreadable for 1.x
# tools, and analysts open the file with their own (`make sql`). Fixed when a file is created, so a file in
# another format is converted on the next write (see Warehouse.write).
STORAGE_VERSION = "v1.5.0"

# write(wait=False) retries this long, so that another process's lock probe (locked_by) cannot make it give up
_NO_WAIT_GRACE_S = 0.5
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int), "share the source file's extents"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class WarehouseBusyError(RuntimeError):
    """Another ETL run held the writer lock for longer than the configured timeout."""


class WarehouseLockedError(WarehouseBusyError):
    """Another ETL run holds the writer lock and the caller asked not to wait for it (``etl run``)."""


class WarehouseMissingError(FileNotFoundError):
    """A reader asked for a warehouse file that does not exist yet."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def migrations() -> list[Migration]:
    """The versioned schema migrations shipped in ``sql/migrations``, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise RuntimeError(f"{path}: migration files must be named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def latest_schema_version() -> int:
    return len(migrations())


@dataclass(frozen=True)
class WriteSession:
    """One write to the warehouse: the read-write connection on the private copy that :meth:`Warehouse.write`
    publishes when the session ends, and the one way to open a transaction on it."""

    con: duckdb.DuckDBPyConnection
    purpose: str
    # seconds per step, filled as the write proceeds: copy (of the published file), work (migrations and the
    # job), checkpoint, publish (fsync and rename); complete once the session is published (bench/nightly.py)
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction on the session's connection: committed when the block succeeds, rolled back when it (or the
        commit) raises."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
                self.con.execute("ROLLBACK")
            raise


@dataclass(frozen=True)
class Warehouse:
    """A warehouse file plus the settings of its writing connection."""

    path: Path
    memory_limit: str = settings.default("warehouse.memory_limit")
    threads: int = settings.default("warehouse.threads")
    lock_timeout_s: float = settings.default("warehouse.lock_timeout_s")

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def version(self) -> tuple[int, int] | None:
        """Identity of the published file; it changes with every publish. None when it does not exist."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns)

    @contextlib.contextmanager
    def write(self, purpose: str, *, wait: bool = True) -> Iterator[WriteSession]:
        """A write session on a private copy of the warehouse; published atomically when the block succeeds.

        ``wait=False`` raises :class:`WarehouseLockedError` at once when another run holds the writer lock, instead
        of queueing for up to ``lock_timeout_s``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._writer_lock(purpose, wait=wait):
            for stale in self.path.parent.glob(f"{self.path.name}.work-*"):
                log.warning("removing %s left by an interrupted ETL run", stale.name)
                shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
            work = self.path.with_name(f"{self.path.name}.work-{os.getpid()}")
            clock = _Clock()
            if self.path.exists():
                _copy_published(self.path, work)
            con = self._connect_work_file(work)
            try:
                session = WriteSession(con, purpose, {"copy": clock.lap()})
                upgrade_schema(session)
                yield session
                session.timings["work"] = clock.lap()
                con.execute("CHECKPOINT")
                con.close()
                session.timings["checkpoint"] = clock.lap()
                fsync(work)
                os.replace(work, self.path)
                fsync(self.path.parent)
                session.timings["publish"] = clock.lap()
                log.debug("published %s (%s): %s", self.path, purpose,
                          ", ".join(f"{step} {seconds:.2f} s" for step, seconds in session.timings.items()))
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.close()
                _remove_db_files(work)
                raise

    def _connect_work_file(self, work: Path) -> duckdb.DuckDBPyConnection:
        config: dict[str, str | int] = {"memory_limit": self.memory_limit,
                                         "storage_compatibility_version": STORAGE_VERSION}
        if self.threads:
            config["threads"] = self.threads
        con = duckdb.connect(str(work), config=config)
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = '{_sql_str(str(work) + '.tmp')}'")
        return con

    def locked_by(self) -> str | None:
        """Who holds the writer lock right now (the lock file's ``pid N: purpose`` line), or None when it is free.

        A probe only, with a shared lock (two probes never collide): the lock may be taken the moment after it
        answers, which is why ``write(wait=False)`` still tries for a moment before giving up."""
        if not self.lock_path.exists():
            return None
        with open(self.lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _holder(handle)
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None

    @contextlib.contextmanager
    def _writer_lock(self, purpose: str, *, wait: bool = True) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            deadline = time.monotonic() + (self.lock_timeout_s if wait else _NO_WAIT_GRACE_S)
            announced = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait and time.monotonic() >= deadline:
                        raise WarehouseLockedError(f"{self.path}: another ETL run holds the writer lock "
                                                   f"({_holder(handle)}); not waiting for it") from None
                    if wait and not announced:
                        log.info("waiting for another ETL run to finish writing %s", self.path)
                        announced = True
                    if time.monotonic() >= deadline:  # only when waiting: the branch above ends the other mode
                        raise WarehouseBusyError(
                            f"{self.path}: another ETL run held the writer lock for more than "
                            f"{self.lock_timeout_s:.0f} s (setting warehouse.lock_timeout_s)"
                        ) from None
                    time.sleep(0.2)
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()}: {purpose}\n")
                handle.flush()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class _Clock:
    """Seconds since the previous lap (or since it was made)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        return elapsed


def _copy_published(published: Path, work: Path) -> None:
    """Copy the published file to the work file, converting it to :data:`STORAGE_VERSION` when it has another
    format (``COPY FROM DATABASE`` keeps tables, data, sequences, views and macros; the published file is only
    read)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_sql_str(str(published))}' AS published (READ_ONLY)")
        found = storage_version(con, "published")
        if found != STORAGE_VERSION:
            log.info("converting %s from storage version %s to %s, which DuckDB 1.5 tools read", published.name,
                     found, STORAGE_VERSION)
            con.execute(f"ATTACH '{_sql_str(str(work))}' AS work (STORAGE_VERSION '{STORAGE_VERSION}')")
            con.execute("COPY FROM DATABASE published TO work")
    except BaseException:
        con.close()
        _remove_db_files(work)  # a half-converted copy
        raise
    con.close()
    if found == STORAGE_VERSION:
        log.debug("%s of %s to %s", clone_or_copy(published, work), published.name, work.name)


def clone_or_copy(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target``, as a reflink where the filesystem offers one (Btrfs, XFS with reflink):
    the copy then shares the source's blocks, so it costs the metadata, not the file, and the write session
    allocates only the blocks it changes. Elsewhere (ext4) a full copy. Returns ``"reflink"`` or ``"copy"``."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
            return "reflink"
        except OSError:  # EOPNOTSUPP (ext4, tmpfs), EXDEV, ENOTTY (not Linux): copy instead
            pass
    shutil.copyfile(source, target)
    return "copy"


def storage_version(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """The storage version of an attached database file as DuckDB names it (``v1.5.0``)."""
    tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = ?", [database]).fetchone()[0]
    return tags["storage_version"].rstrip("+")


def _holder(handle: IO[str]) -> str:
    """The lock file's ``pid N: purpose`` line, written by the process holding the lock."""
    handle.seek(0)
    return handle.read().strip() or "another process"


def connect_readonly(path: Path, config: dict[str, str | int | bool] | None = None) -> duckdb.DuckDBPyConnection:
    """A private read-only snapshot of the published warehouse, as the default catalog, in an in-memory DuckDB
    instance with ``config`` (the ad-hoc sandbox's limits).

    Close it when done: it pins the snapshot that was published when it was opened.
    """
    if not path.exists():
        raise WarehouseMissingError(f"{path}: no warehouse yet; run `python -m etl init` or `python -m etl demo`")
    con = duckdb.connect(":memory:", config=config or {})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{_sql_str(str(path))}' AS wh (READ_ONLY)")
    con.execute("USE wh")
    return con


def readonly_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of a :func:`connect_readonly` connection, set up like it (UTC, the warehouse as default catalog): its
    own transactions on the same snapshot, for one thread at a time. Close it when done."""
    cursor = con.cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    cursor.execute("USE wh")
    return cursor


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The migration version of the open warehouse (0 for an empty file)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def upgrade_schema(session: WriteSession) -> list[Migration]:
    """Apply pending migrations, then refresh macros, seed tables and views (and backfill the compute-class rollup
    when its migration was just applied). Returns what was applied."""
    con = session.con
    current = schema_version(con)
    applied = []
    for migration in migrations():
        if migration.version <= current:
            continue
        log.info("applying schema migration %04d_%s", migration.version, migration.name)
        with session.transaction():
            con.execute(migration.path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                        [migration.version, migration.name])
        applied.append(migration)
    refresh_seeds(con)
    con.execute(MACROS_FILE.read_text(encoding="utf-8"))
    for view in sorted(VIEWS_DIR.glob("*.sql")):
        con.execute(view.read_text(encoding="utf-8"))
    if any(m.name == compute_rollup.MIGRATION for m in applied):  # after the views: they hold its rules
        compute_rollup.backfill(session)
    return applied


def refresh_seeds(con: duckdb.DuckDBPyConnection) -> None:
    """Reload the reference tables kept as CSV in ``sql/seed`` (mappings, currency codes)."""
    for seed in sorted(SEED_DIR.glob("*.csv")):
        con.execute(
            f'CREATE OR REPLACE TABLE "{seed.stem}" AS SELECT * FROM read_csv(?, header = true, '
            "all_varchar = true, auto_detect = false, delim = ',', quote = '\"', strict_mode = true, "
            "columns = ?)",
            [str(seed), _seed_columns(seed)],
        )


def _seed_columns(seed: Path) -> dict[str, str]:
    header = seed.read_text(encoding="utf-8").splitlines()[0]
    return {name: "VARCHAR" for name in header.split(",")}


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def fsync(path: Path) -> None:
    """Flush a file's or a folder's entries to disk (a folder after a rename in it, so the rename survives a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_db_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)
