"""Loading a fetched BigQuery billing export (``bigquery_export.py``) in the write session, through the same
normalisation and replace units as the export's files.

The spool's rows are given the shape of the export's own records (``service{id,description}``, ``credits[]``,
``invoice{month}``…, one credit per type, named by its type and without an id: the query sums credits per type, so
a committed-use discount is identified by its type, e.g. ``COMMITTED_USAGE_DISCOUNT``) and read by the ``gcp``
adapter exactly like an extracted Parquet file, so the ``cost`` columns are the same: BilledCost = EffectiveCost =
cost + the credits, ListCost = cost_at_list,
ContractedCost = cost, ServiceProviderName = Google Cloud, the invoice month (Pacific time) as the billing period.
The charge period of a row is its Pacific usage day, as UTC instants. ``x_SourceFormat`` and ``x_SourceFile`` are
``bigquery:<project>.<dataset>.<table>``; ``x_SourceLine`` is the row of the query's result.

In one transaction the rows replace the (account, invoice month) units they cover: the re-read months, atomically.
The load fails closed, writing nothing but its ``load_log`` row, when BigQuery returned no rows at all, or none for
an invoice month that holds rows loaded earlier from the same table (those rows are kept).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import duckdb

from etl.billing import compile, registry, rollup, units
from etl.billing.base import InputError, LoadOptions, sql_string
from etl.billing.errors import describe_duckdb_error
from etl.billing.loader import load_summary
from etl.billing.lookups import Lookups
from etl.billing.sources import Header, Source
from etl.demo import isolation
from etl.gcp.bigquery_export import CREDIT_TYPES, SPOOL_TABLE, Fetched
from etl.loadlog import LoadRecord, format_totals, next_load_id, write_alone
from etl.loadlog import write as write_load_log
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

SPOOL = "bq_spool"
_CREDIT_LIST = "[" + ", ".join(
    f"struct_pack(name := '{kind}', amount := credit_{kind.lower()}, full_name := NULL::VARCHAR, id := NULL::VARCHAR, "
    f"type := '{kind}')"
    for kind in (*CREDIT_TYPES, "OTHER")) + "]"
# The spool's columns as the export's nested records (the columns the gcp adapter reads from a Parquet extract).
_EXPORT_SHAPE = f"""
    billing_account_id,
    struct_pack(id := service_id, description := service_description) AS service,
    struct_pack(id := sku_id, description := sku_description) AS sku,
    timezone('America/Los_Angeles', usage_date::TIMESTAMP) AS usage_start_time,
    timezone('America/Los_Angeles', (usage_date + 1)::TIMESTAMP) AS usage_end_time,
    struct_pack(id := project_id, name := project_name) AS project,
    from_json(labels_json, '[{{"key": "VARCHAR", "value": "VARCHAR"}}]') AS labels,
    struct_pack(location := location_name, region := location_region) AS location,
    cost, currency,
    struct_pack(amount := usage_amount, unit := usage_unit, amount_in_pricing_units := pricing_amount,
                pricing_unit := pricing_unit) AS usage,
    list_filter({_CREDIT_LIST}, lambda c: c.amount <> 0) AS credits,
    struct_pack(month := invoice_month) AS invoice,
    cost_type, cost_at_list, export_time
"""


class EmptyResultError(InputError):
    """BigQuery returned no rows where rows are expected; nothing is replaced."""


def load_fetched(session: WriteSession, fetched: Fetched, options: LoadOptions) -> LoadRecord:
    """Load one fetched source in its own transaction; a failure is a ``failed`` record (never raises for it)."""
    source = fetched.source
    record = LoadRecord(kind="billing", source=source.label, format="gcp", files=[source.table_id],
                        bytes=fetched.bytes_billed, dataset="cost", synthetic=options.synthetic,
                        message=_months_note(fetched))
    con = session.con
    try:
        if fetched.error or fetched.spool is None:
            raise InputError(fetched.error or "nothing was fetched")
        con.execute(f"ATTACH {sql_string(str(fetched.spool))} AS {SPOOL} (READ_ONLY)")
        try:
            _refuse_missing_months(con, fetched)
            _insert(session, fetched, options, record)
        finally:
            con.execute(f"DETACH {SPOOL}")
    except (InputError, duckdb.Error) as exc:
        record.error = f"{source.label}: " + (describe_duckdb_error(exc) if isinstance(exc, duckdb.Error)
                                              else str(exc))
    if not record.ok:
        log.error("failed: %s", record.error)
        record.status, record.rows, record.totals, record.load_id = "failed", 0, [], None
        write_alone(session, record)
    return record


def _months_note(fetched: Fetched) -> str:
    months = fetched.months
    estimate = f"; dry run {fetched.bytes_estimated:,} bytes" if fetched.bytes_estimated is not None else ""
    return f"invoice months {months[0]}-{months[-1]} re-read{estimate}"


def _refuse_missing_months(con: duckdb.DuckDBPyConnection, fetched: Fetched) -> None:
    """Fail closed: an empty result, or a re-read month without rows that holds rows of this table already."""
    returned = {month for (month,) in con.execute(
        f"SELECT DISTINCT invoice_month FROM {SPOOL}.{SPOOL_TABLE}").fetchall()}
    loaded = dict(con.execute(
        """
        SELECT strftime(timezone('America/Los_Angeles', timezone('UTC', BillingPeriodStart)), '%Y%m'), count(*)
        FROM cost_line WHERE x_SourceFormat = ? GROUP BY 1
        """, [fetched.source.label]).fetchall())
    missing = [month for month in fetched.months if month in loaded and month not in returned]
    if missing:
        kept = ", ".join(f"{month} ({loaded[month]:,} rows kept)" for month in missing)
        raise EmptyResultError(f"BigQuery returned no rows for invoice month(s) {kept} loaded earlier from this "
                               "table; nothing was replaced. Check the export and the "
                               "credentials' access to it")
    if not returned:
        raise EmptyResultError(f"BigQuery returned no rows for invoice months {fetched.months[0]}-"
                               f"{fetched.months[-1]}; check the table name and that the billing export is on")


def _insert(session: WriteSession, fetched: Fetched, options: LoadOptions, record: LoadRecord) -> None:
    con = session.con
    label = fetched.source.label
    reader = (f"SELECT rowid + 1 AS x_line, {sql_string(label)} AS x_file, {_EXPORT_SHAPE} "
              f"FROM {SPOOL}.{SPOOL_TABLE}")
    shape = con.sql(f"SELECT {_EXPORT_SHAPE} FROM {SPOOL}.{SPOOL_TABLE} LIMIT 0")
    header = Header(tuple(shape.columns), tuple(shape.types))
    source = Source(label=label, files=(), kind="parquet")
    adapter = registry.get("gcp")
    plan = replace(adapter.plan(header, options, source), source_format=label)
    normalised = compile.normalised_select(source, header.columns, plan, numbered=True, reader=reader)
    [(export_rows,)] = con.execute(f"SELECT coalesce(sum(export_rows), 0) FROM {SPOOL}.{SPOOL_TABLE}").fetchall()
    with session.transaction():
        record.load_id = next_load_id(con)
        con.execute(compile.insert_sql(normalised, source, plan, record.load_id, Lookups.read(con)))
        removed = None if record.synthetic else isolation.remove_synthetic(con, "billing")
        superseded = units.claim(con, record.load_id)
        record.rows, record.totals, record.scope = load_summary(con, record.load_id)
        record.status = "loaded" if record.rows else "superseded"
        notes = [record.message or "", f"{export_rows:,} export rows aggregated in BigQuery"]
        notes += [removed] if removed else []
        if superseded:
            notes.append(f"{len(superseded)} period(s) skipped: a newer export is already loaded "
                         f"({', '.join(sorted(superseded))})")
        record.message = "; ".join(note for note in notes if note)
        write_load_log(con, record)
    log.info("%s %s: %d rows from %s result rows (%s)", record.status, label, record.rows, f"{fetched.rows:,}",
             format_totals(record.totals))


def load_all(session: WriteSession, fetched: list[Fetched], options: LoadOptions) -> list[LoadRecord]:
    """Load every fetched source, then refresh the daily rollup of what they touched (as ``load_sources`` does
    for files)."""
    rollup.start(session.con)
    records = [load_fetched(session, one, options) for one in fetched]
    rollup.refresh(session)
    return records
