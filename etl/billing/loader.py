"""Load billing sources into ``cost_line``: the orchestration of the stages, one transaction per source.

For each source (a file, or a manifest with its blobs) the loader

1. reads the header (``sources.py``) and picks an adapter (``registry.py``), which binds its declarations to the
   header as a plan;
2. skips it as *unchanged* when a load of the same bytes is still fully in the warehouse (``units.py``);
3. compiles the plan into one set-based statement (``compile.py``) and runs it (``ingest.py``); every value is
   parsed by the checked macros of ``sql/macros.sql``, so the first bad value raises an error naming its line and
   column;
4. inserts the rows in one transaction; in a second one numbers their lines (``ingest.py``), makes them the owners
   of their replace units and deletes the rows they replace (``units.py``), removes the demo's synthetic billing
   data when the load is real (``etl/demo/isolation.py``), runs the adapter's ``after_load`` step, and writes the
   ``load_log`` row (``etl/loadlog.py``); should the second fail, the rows are deleted again: nothing of a failed
   source is kept;
5. marks the days it touched, whose daily rollup is refreshed at the end of the run (``rollup.py``).

A failed source is logged (``load_log``, status ``failed``) and the next one still loads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb

from etl.billing import ingest, registry, rollup, units
from etl.billing.base import InputError, LoadOptions, Plan
from etl.billing.errors import LoadError, describe_duckdb_error, with_file
from etl.billing.sources import Header, Source, check_same_header, read_header, sha256_of
from etl.demo import isolation
from etl.loadlog import CurrencyTotal, LoadRecord, format_totals, next_load_id, write_alone
from etl.loadlog import write as write_load_log
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
_NAMES_A_LINE = re.compile(r"\bline \d+")


def load_sources(session: WriteSession, sources: Iterable[Source], options: LoadOptions,
                 provider_aliases: dict[str, str] | None = None) -> list[LoadRecord]:
    """Load every source in the write session, then refresh the rollup of what they touched; never raises for
    bad input (a failed source is a record with status ``failed`` and its error)."""
    _add_provider_aliases(session, provider_aliases or {})
    rollup.start(session.con)
    records = [load_source(session, source, options) for source in sources]
    rollup.refresh(session)
    return records


def load_source(session: WriteSession, source: Source, options: LoadOptions) -> LoadRecord:
    record = LoadRecord(kind="billing", source=source.label, files=[str(f) for f in source.files],
                        synthetic=options.synthetic)
    digest: Future[str] | None = None
    header: Header | None = None
    plan: Plan | None = None
    try:
        record.bytes = source.total_bytes
        record.export_time = source.export_time
        digest = _digest(session.con, source)
        header = read_header(source)
        check_same_header(source, header)
        adapter = registry.choose(header.columns, source.kind, options)
        record.format = adapter.NAME
        plan = adapter.plan(header, options, source)
        record.dataset = plan.dataset
        previous = units.unchanged_load(session.con, digest.result(), plan) if digest.done() else None
        if previous is not None:
            _unchanged(session, record, previous, digest.result())
        else:
            _load_new(session, source, header, plan, digest, record)
    except (InputError, duckdb.Error) as exc:
        message = describe_duckdb_error(exc) if isinstance(exc, duckdb.Error) else str(exc)
        if header is not None and plan is not None and len(source.files) > 1 and _NAMES_A_LINE.search(message):
            message = ingest.locate(session.con, source, header.columns, plan) or message
        record.error = with_file(source.label, message)
    except OSError as exc:
        record.error = with_file(source.label, f"cannot read the file ({exc.strerror})")
    if not record.ok:
        log.error("failed: %s", record.error)
        # the scope stays when the rows were read before the failure: a later load of those accounts resolves it;
        # the load id stays too when the insert had taken one (its rows were rolled back or deleted again)
        record.status, record.rows, record.totals = "failed", 0, []
        record.sha256 = digest.result() if digest and digest.done() and not digest.exception() else None
        write_alone(session, record)
    return record


def _digest(con: duckdb.DuckDBPyConnection, source: Source) -> Future[str]:
    """The sha256 of the source's files. When an earlier load had files of the same total size the hash is
    computed now, to tell whether the content is unchanged; otherwise it cannot be unchanged, and the hash is
    computed in a thread while DuckDB loads the file (hashing gigabytes is not free)."""
    same_size = con.execute("SELECT count(*) FROM load_log WHERE kind = 'billing' AND status = 'loaded' "
                            "AND bytes = ?", [source.total_bytes]).fetchone()[0]
    if same_size:
        done: Future[str] = Future()
        done.set_result(sha256_of(source))
        return done
    return _HASHING.submit(sha256_of, source)


def _unchanged(session: WriteSession, record: LoadRecord, previous: int, sha256: str) -> None:
    record.status, record.load_id, record.sha256 = "unchanged", None, sha256
    record.rows, record.totals, record.scope = load_summary(session.con, previous)
    record.message = f"same content as load {previous}, still current"
    write_alone(session, record)
    log.info("unchanged %s (%s)", record.source, record.message)


def _load_new(session: WriteSession, source: Source, header: Header, plan: Plan, digest: Future[str],
              record: LoadRecord) -> None:
    con = session.con
    # The one-pass insert numbers a CSV or JSON file's lines from the order its rows arrive in (ingest.py): DuckDB
    # must keep it (its default), and a join would not; a Parquet file's rows bring their lines and may arrive in
    # any order. DuckDB rewrites an IN list of more than a few values into a join against the list: keep IN an
    # expression.
    con.execute(f"SET preserve_insertion_order = {str(ingest.keeps_order(source.kind)).lower()}")
    con.execute("SET disabled_optimizers = 'in_clause'")
    try:
        try:
            _commit(session, source, plan, digest, record,
                    lambda load_id: ingest.insert(con, source, header.columns, plan, load_id), numbered=False)
        except _InsertError:
            # the one parallel pass failed (a bad value, named at line 0): read the source again numbered, which
            # raises the error at its exact line, or stages a file the parallel reader refused (mixed line endings)
            staged = ingest.stage_numbered(con, source, header.columns, plan)
            try:
                _commit(session, source, plan, digest, record,
                        lambda load_id: ingest.insert_staged(con, staged, source, plan, load_id), numbered=True)
            except _InsertError as again:
                raise again.__cause__ from None
    except BaseException:
        record.status = "failed"
        raise
    finally:
        ingest.drop_staged(con)
        con.execute("RESET disabled_optimizers")
        con.execute("RESET preserve_insertion_order")
    log.info("%s %s: %d rows as %s (%s)", record.status, source.label, record.rows, plan.format,
             format_totals(record.totals))


class _InsertError(Exception):
    """The insert of a source's rows raised (its DuckDB error is the cause); the transaction was rolled back."""


def _commit(session: WriteSession, source: Source, plan: Plan, digest: Future[str], record: LoadRecord,
            insert: Callable[[int], int], *, numbered: bool) -> None:
    """The rows (``insert(load_id)``) in one transaction, then in a second one their line numbers (unless
    ``numbered``), their replace units, the removal of the demo's rows, the adapter's after-load step and the
    ``load_log`` row. Until the second commits the rows are the load's alone, with no ``load_log`` row, in the
    session's private copy; if it fails they are deleted again, so nothing of a failed source is kept."""
    con = session.con
    record.load_id = record.load_id or next_load_id(con)
    with session.transaction():
        try:
            inserted = insert(record.load_id)
        except duckdb.Error as exc:
            raise _InsertError from exc
    try:
        with session.transaction():
            if not numbered:
                ingest.number_lines(con, source, record.load_id)
            _settle(session, source, plan, digest, record, inserted)
    except BaseException:
        with session.transaction():
            con.execute("DELETE FROM cost_line WHERE x_LoadId = ?", [record.load_id])
        raise


def _settle(session: WriteSession, source: Source, plan: Plan, digest: Future[str], record: LoadRecord,
            inserted: int) -> None:
    """Check the inserted rows, make them the owners of their replace units and write the ``load_log`` row."""
    con = session.con
    record.scope = load_scope(con, record.load_id)
    if inserted == 0:
        raise LoadError("no data rows after the header; expected at least one cost row")
    if source.expected_rows is not None and inserted != source.expected_rows:
        raise LoadError(f"read {inserted} rows but the manifest's dataRowCount says {source.expected_rows}")
    removed = None if record.synthetic else isolation.remove_synthetic(con, "billing")
    superseded = units.claim(con, record.load_id)
    plan.adapter.after_load(con, record.load_id)
    record.rows, record.totals, record.scope = load_summary(con, record.load_id)
    record.status = "loaded" if record.rows else "superseded"
    notes = list(plan.notes) + _unmapped_services(con, record.load_id) + ([removed] if removed else [])
    if superseded:
        notes.append(f"{len(superseded)} period(s) skipped: a newer export is already loaded "
                     f"({', '.join(sorted(superseded))})")
    record.message = "; ".join(notes) or None
    record.sha256 = digest.result()
    write_load_log(con, record)


def load_summary(con: duckdb.DuckDBPyConnection,
                 load_id: int) -> tuple[int, list[CurrencyTotal], list[tuple[str, str]]]:
    """Rows, totals per currency and the (provider, billing account) pairs of a load's rows."""
    rows = con.execute(
        """
        SELECT BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost)
        FROM cost_line WHERE x_LoadId = ? GROUP BY 1 ORDER BY 1
        """,
        [load_id],
    ).fetchall()
    totals = [CurrencyTotal(cur, n, billed, effective) for cur, n, billed, effective in rows]
    return sum(t.rows for t in totals), totals, load_scope(con, load_id)


def load_scope(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[str, str]]:
    """The (provider, billing account) pairs of a load's rows."""
    return con.execute(
        "SELECT DISTINCT ServiceProviderName, BillingAccountId FROM cost_line WHERE x_LoadId = ? ORDER BY ALL",
        [load_id],
    ).fetchall()


def _unmapped_services(con: duckdb.DuckDBPyConnection, load_id: int) -> list[str]:
    """A note naming the services of this load that no mapping row covers (counted as Other)."""
    names = [name for (name,) in con.execute(
        "SELECT DISTINCT ServiceProviderName || ' ' || ServiceName FROM cost_line "
        "WHERE x_LoadId = ? AND x_CategorySource = 'default' ORDER BY 1", [load_id]).fetchall()]
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [f"{len(names)} service(s) without a category mapping, counted as Other ({shown}): add them to "
            "sql/seed/service_category_map.csv"]


def _add_provider_aliases(session: WriteSession, aliases: dict[str, str]) -> None:
    if not aliases:
        return
    with session.transaction() as con:
        for alias, name in aliases.items():
            con.execute("DELETE FROM provider_alias WHERE alias = ?", [alias.strip().lower()])
            con.execute("INSERT INTO provider_alias VALUES (?, ?)", [alias.strip().lower(), name])
