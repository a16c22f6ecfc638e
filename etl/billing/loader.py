"""Load billing sources into ``cost_line``: one set-based DuckDB statement per source, one transaction each.

For each source (a file, or a manifest with its blobs) the loader

1. reads the header and picks an adapter (or uses ``--format``);
2. skips it as *unchanged* when a load of the same bytes is still fully in the warehouse;
3. inserts every row through a single ``INSERT ... SELECT`` over ``read_csv``/``read_parquet``/``read_json``.
   Each value is parsed by the checked macros of ``sql/macros.sql``: the first unparsable number or date,
   missing required value or unknown currency raises an error naming the line and column, and the
   transaction rolls back, so nothing of that file is kept;
4. makes the new rows the owners of their *replace units* and deletes the rows they replace. A unit is a
   (provider, billing account, billing period, dataset) for exports that restate whole periods (the latest
   export wins; month-to-date copies and restatements replace what was there), or the file itself for
   incremental feeds such as OCI cost reports. When both exports carry an export time and the stored one is
   newer, the incoming unit is *superseded* and dropped, and the log says so;
5. records the outcome, row count and totals per currency in ``load_log``.

A failed source is logged and the next one still loads. The daily rollup behind ``daily_spend`` is refreshed
for the touched provider/account/dates at the end of the run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from etl.billing import registry
from etl.billing.base import (
    FOCUS_COLUMNS,
    HELPER_COLUMNS,
    MANDATORY_FOCUS,
    Field,
    InputError,
    LoadOptions,
    Plan,
    quote_ident,
    sql_string,
    unique_names,
)
from etl.billing.sources import Source, check_same_header, read_columns, sha256_of

log = logging.getLogger(__name__)

_NULL_OF_KIND = {"num": "NULL::DECIMAL(38, 12)", "ts": "NULL::TIMESTAMP", "json": "NULL::JSON",
                 "text": "NULL::VARCHAR", "raw": "NULL"}
_CHECKED_MACRO = {"num": "ss_num", "ts": "ss_ts", "json": "ss_json_object"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    rows: int
    billed: Decimal
    effective: Decimal


@dataclass
class LoadResult:
    """The outcome of one source, as shown in the run summary and stored in ``load_log``."""

    source: str
    status: str  # loaded | unchanged | superseded | failed
    format: str | None = None
    rows: int = 0
    totals: list[CurrencyTotal] = field(default_factory=list)
    scope: list[tuple[str, str]] = field(default_factory=list)  # (provider, billing account) of its rows
    error: str | None = None
    message: str | None = None
    load_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class LoadError(InputError):
    """Bad input in a source file; the message names the file, line and column where there is one."""


def load_sources(con: duckdb.DuckDBPyConnection, sources: Iterable[Source], options: LoadOptions,
                 provider_aliases: dict[str, str] | None = None) -> list[LoadResult]:
    """Load every source on the writer connection ``con``; never raises for bad input."""
    _add_provider_aliases(con, provider_aliases or {})
    con.execute("CREATE OR REPLACE TEMP TABLE touched (provider VARCHAR, account VARCHAR, date DATE)")
    results = [load_source(con, source, options) for source in sources]
    refresh_daily_rollup(con)
    return results


def load_source(con: duckdb.DuckDBPyConnection, source: Source, options: LoadOptions) -> LoadResult:
    started = _now()
    result = LoadResult(source=source.label, status="failed")
    digest: Future[str] | None = None
    try:
        digest = _digest(con, source)
        columns = read_columns(source)
        check_same_header(source, columns)
        adapter = registry.choose(columns, source.kind, options)
        result.format = adapter.NAME
        plan = adapter.plan(columns, options, source)
        previous = _unchanged_load(con, digest.result(), plan) if digest.done() else None
        if previous is not None:
            result.status, result.load_id = "unchanged", previous
            result.rows, result.totals, result.scope = _load_summary(con, previous)
            result.message = f"same content as load {previous}, still current"
        else:
            _load_new(con, source, columns, plan, digest, started, result, options.synthetic)
    except InputError as exc:
        result.error = _with_file(source, str(exc))
    except duckdb.Error as exc:
        result.error = _with_file(source, describe_duckdb_error(exc))
    if result.status in ("failed", "unchanged"):
        log.log(logging.ERROR if result.status == "failed" else logging.INFO, "%s: %s", result.status,
                result.error or f"{source.label} ({result.message})")
        _log_load(con, result, source, digest.result() if digest else None, None, started, options.synthetic)
    return result


def _digest(con: duckdb.DuckDBPyConnection, source: Source) -> Future[str]:
    """The sha256 of the source's files. When an earlier load had files of the same total size the hash is
    computed now, to tell whether the content is unchanged; otherwise it cannot be unchanged, and the hash is
    computed in a thread while DuckDB loads the file (hashing gigabytes is not free)."""
    size = source.total_bytes
    same_size = con.execute("SELECT count(*) FROM load_log WHERE kind = 'billing' AND status = 'loaded' "
                            "AND bytes = ?", [size]).fetchone()[0]
    if same_size:
        done: Future[str] = Future()
        done.set_result(sha256_of(source))
        return done
    return _HASHING.submit(sha256_of, source)


_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")


def _load_new(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
              digest: Future[str], started: datetime, result: LoadResult, synthetic: bool) -> None:
    load_id = con.execute("SELECT nextval('load_id_seq')").fetchone()[0]
    result.load_id = load_id
    # The lookup joins must build their hash tables on the small seed tables. DuckDB flips a join when it estimates
    # the source smaller, and read_json with an explicit schema estimates 42 rows whatever the file: the flip would
    # hold every row of the file in a hash table, so memory would grow with the file.
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    con.execute("BEGIN TRANSACTION")
    try:
        inserted = _insert_rows(con, source, columns, plan, load_id)
        if inserted == 0:
            raise LoadError("no data rows after the header; expected at least one cost row")
        if source.expected_rows is not None and inserted != source.expected_rows:
            raise LoadError(f"read {inserted} rows but the manifest's dataRowCount says {source.expected_rows}")
        superseded = _claim_replace_units(con, load_id, source.export_time)
        _reconcile_datasets(con, load_id)
        result.rows, result.totals, result.scope = _load_summary(con, load_id)
        result.status = "loaded" if result.rows else "superseded"
        notes = list(plan.notes) + _unmapped_services(con, load_id)
        if superseded:
            notes.append(f"{len(superseded)} period(s) skipped: a newer export is already loaded "
                         f"({', '.join(sorted(superseded))})")
        result.message = "; ".join(notes) or None
        _log_load(con, result, source, digest.result(), plan.dataset, started, synthetic)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        result.status, result.rows, result.totals, result.scope = "failed", 0, [], []
        raise
    finally:
        con.execute("RESET disabled_optimizers")
    log.info("%s %s: %d rows as %s (%s)", result.status, source.label, result.rows, plan.adapter,
             format_totals(result.totals))


def _insert_rows(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
                 load_id: int) -> int:
    """Insert the source's rows; returns their count.

    Numbering records with ``row_number() OVER ()`` while reading makes DuckDB read a CSV or JSON file on one
    thread. So those files are first parsed and normalised in parallel into a temporary table, whose row ids
    follow the file (DuckDB keeps insertion order through projections), and the line numbers come from the row
    ids when the rows are resolved and inserted. If the parallel pass fails on a bad value, the file is read again
    numbered, on one thread, so that the error names the exact line. Parquet records carry their number
    (``file_row_number``) at no cost and take the single-statement path.
    """
    if source.kind == "parquet":
        return con.execute(build_insert(source, columns, plan, load_id)).fetchone()[0]
    try:
        offsets = _stage(con, source, columns, plan)
    except duckdb.Error:
        con.execute("ROLLBACK")
        con.execute("BEGIN TRANSACTION")
        return _insert_numbered(con, source, columns, plan, load_id)
    if not offsets:  # no rows at all
        con.execute("DROP TABLE staged_rows")
        return 0
    first_line = 2 if source.kind == "csv" else 1  # a CSV's line 1 is its header
    start = " ".join(f"WHEN {sql_string(file)} THEN {offset}" for file, offset in offsets)
    numbered = (f"SELECT rowid - (CASE x_file {start} END) + {first_line} AS x_line, * EXCLUDE (x_line) "
                f"FROM staged_rows")
    inserted = con.execute(_resolve_insert(numbered, source, plan, load_id)).fetchone()[0]
    con.execute("DROP TABLE staged_rows")
    return inserted


def _insert_numbered(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
                     load_id: int) -> int:
    """One statement, records numbered while reading, so that an error names its exact line.

    DuckDB's strict CSV reader also rejects a file whose line endings are mixed (CRLF lines ending in a bare LF,
    as in some Azure exports) without a line number. Such a file is accepted after every physical line has been
    checked to have as many fields as the header, since the relaxed reader would not report a ragged row.
    """
    try:
        return con.execute(build_insert(source, columns, plan, load_id)).fetchone()[0]
    except duckdb.Error as exc:
        if source.kind != "csv" or _INVALID_CSV_STATE not in str(exc):
            raise
    con.execute("ROLLBACK")
    con.execute("BEGIN TRANSACTION")
    for path in source.files:
        _check_field_counts(con, path, len(plan.reader_columns or columns))
    return con.execute(build_insert(source, columns, plan, load_id, strict=False)).fetchone()[0]


_INVALID_CSV_STATE = "state machine reached an invalid state"
_QUOTED = sql_string('"(?:[^"]|"")*"')


def _check_field_counts(con: duckdb.DuckDBPyConnection, path: Path, expected: int) -> None:
    """Raise for the first physical line whose field count differs from the header's. Lines with an odd number of
    quotes belong to a record spanning several lines and are not judged."""
    row = con.execute(
        f"""
        SELECT line, fields FROM (
            SELECT row_number() OVER () + 1 AS line,
                   length(regexp_replace(text, {_QUOTED}, '', 'g'))
                   - length(replace(regexp_replace(text, {_QUOTED}, '', 'g'), ',', '')) + 1 AS fields,
                   length(text) - length(replace(text, '"', '')) AS quotes
            FROM read_csv(?, columns = {{'text': 'VARCHAR'}}, header = false, skip = 1, delim = ?, quote = '',
                          escape = '', auto_detect = false, strict_mode = false, compression = 'auto')
        ) WHERE quotes % 2 = 0 AND fields <> ? ORDER BY line LIMIT 1
        """,
        [str(path), chr(30), expected],
    ).fetchone()
    if row:
        raise LoadError(f"line {row[0]}: expected {expected} fields as in the header, found {row[1]} (ragged row)")


def _stage(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...],
           plan: Plan) -> list[tuple[str, int]]:
    """Parse and normalise every file of the source into the temporary table ``staged_rows``, in parallel and in
    file order; returns each file's first row id (row ids of uncommitted rows do not start at 0)."""
    for index, path in enumerate(source.files):
        select = normalised_select(source.kind, [path], columns, plan, numbered=False)
        statement = "CREATE OR REPLACE TEMP TABLE staged_rows AS " if index == 0 else "INSERT INTO staged_rows "
        con.execute(statement + select)
    return con.execute("SELECT x_file, min(rowid) FROM staged_rows GROUP BY x_file").fetchall()


def build_insert(source: Source, columns: tuple[str, ...], plan: Plan, load_id: int, strict: bool = True) -> str:
    """One INSERT ... SELECT that reads (numbering records), parses, validates and normalises the source."""
    return _resolve_insert(normalised_select(source.kind, list(source.files), columns, plan, numbered=True,
                                             strict=strict), source, plan, load_id)


def normalised_select(kind: str, files: list[Path], columns: tuple[str, ...], plan: Plan, numbered: bool,
                      strict: bool = True) -> str:
    """The source's rows parsed by the checked macros and mapped to FOCUS and helper columns, with x_line and
    x_file. Unnumbered, x_line is 0 (an error message would say "line 0"; see :func:`_insert_rows`)."""
    columns = plan.reader_columns or columns
    canonical = _canonical_columns(plan, columns)
    original = dict(zip(canonical, columns, strict=True))
    reader = " UNION ALL ".join(_reader_sql(kind, path, columns, canonical, plan.read_options, numbered, strict)
                                for path in files)
    parsed = ", ".join(_parsed_field(key, found, spec, original) for key, (found, spec) in plan.fields.items())
    focus = ", ".join(
        f"{_focus_expr(name, plan)} AS {quote_ident(name)}" for name in FOCUS_COLUMNS + HELPER_COLUMNS
    )
    return f"""
        WITH src AS ({reader}),
        parsed AS (SELECT x_line, x_file, {parsed} FROM src)
        SELECT x_line, x_file, {focus} FROM parsed
    """


def _resolve_insert(normalised: str, source: Source, plan: Plan, load_id: int) -> str:
    """INSERT the normalised rows into cost_line, resolving provider aliases, currency codes and the mapping
    tables, with an error naming the line for a value none of them accepts."""
    export_time = (
        f"coalesce(n.x_ExportTime, TIMESTAMP '{source.export_time:%Y-%m-%d %H:%M:%S}')"
        if source.export_time else "n.x_ExportTime"
    )
    replace_key = (
        "concat_ws('|', 'period', ServiceProviderName, BillingAccountId, "
        f"strftime(BillingPeriodStart, '%Y-%m-%dT%H:%M:%S'), {sql_string(plan.dataset)})"
        if plan.replace_scope == "period" else sql_string("file|" + Path(source.label).name)
    )
    return f"""
        INSERT INTO cost_line BY NAME
        WITH norm AS ({normalised}),
        resolved AS (
            SELECT n.* EXCLUDE (ServiceProviderName, BillingCurrency, ServiceCategory, ChargeCategory,
                                ChargeClass, PricingCategory, x_ServiceKey, x_ChargeType, x_PricingModel,
                                x_ExportTime),
                coalesce(pa.service_provider_name, trim(n.ServiceProviderName)) AS ServiceProviderName,
                CASE WHEN cur.code IS NULL THEN error(format(
                        'line {{}}, column "BillingCurrency": "{{}}" is not an ISO 4217 currency code '
                        '(expected e.g. USD, EUR, CAD)', n.x_line, n.BillingCurrency))
                     ELSE cur.code END AS BillingCurrency,
                CASE WHEN n.ServiceCategory IS NOT NULL THEN 'file' WHEN scm.service_category IS NOT NULL
                     THEN 'map' ELSE 'default' END AS x_CategorySource,
                CASE WHEN n.ServiceCategory IS NULL THEN coalesce(scm.service_category, 'Other')
                     WHEN sc.service_category IS NULL THEN error(format(
                        'line {{}}, column "ServiceCategory": "{{}}" is not a FOCUS 1.2 service category',
                        n.x_line, n.ServiceCategory))
                     ELSE sc.service_category END AS ServiceCategory,
                CASE WHEN n.ChargeCategory IS NOT NULL AND cc.charge_category IS NULL THEN error(format(
                        'line {{}}, column "ChargeCategory": "{{}}" is not a FOCUS charge category '
                        '(expected Usage, Purchase, Tax, Credit or Adjustment)', n.x_line, n.ChargeCategory))
                     WHEN n.ChargeCategory IS NOT NULL THEN cc.charge_category
                     WHEN ccm.charge_category IS NULL THEN error(format(
                        'line {{}}: charge type "{{}}" is not in sql/seed/charge_category_map.csv for {{}}; '
                        'add it there', n.x_line, n.x_ChargeType,
                        coalesce(pa.service_provider_name, n.ServiceProviderName)))
                     ELSE ccm.charge_category END AS ChargeCategory,
                coalesce(n.ChargeClass, nullif(ccm.charge_class, '')) AS ChargeClass,
                coalesce(n.PricingCategory, pcm.pricing_category) AS PricingCategory,
                {export_time} AS x_ExportTime
            FROM norm n
            LEFT JOIN provider_alias pa ON pa.alias = lower(trim(n.ServiceProviderName))
            LEFT JOIN currency cur ON cur.code = upper(trim(n.BillingCurrency))
            LEFT JOIN service_category sc ON lower(sc.service_category) = lower(trim(n.ServiceCategory))
            LEFT JOIN service_category_map scm
                ON scm.provider = coalesce(pa.service_provider_name, trim(n.ServiceProviderName))
               AND scm.service_key = lower(trim(n.x_ServiceKey))
            LEFT JOIN charge_category cc ON lower(cc.charge_category) = lower(trim(n.ChargeCategory))
            LEFT JOIN charge_category_map ccm
                ON ccm.provider = coalesce(pa.service_provider_name, trim(n.ServiceProviderName))
               AND ccm.native_charge_type = lower(trim(n.x_ChargeType))
            LEFT JOIN pricing_category_map pcm
                ON pcm.provider = coalesce(pa.service_provider_name, trim(n.ServiceProviderName))
               AND pcm.native_pricing = lower(trim(n.x_PricingModel))
        )
        SELECT * EXCLUDE (x_line, x_file),
            x_line AS x_SourceLine, x_file AS x_SourceFile, {load_id} AS x_LoadId,
            {sql_string(plan.adapter)} AS x_SourceFormat, {sql_string(plan.dataset)} AS x_Dataset,
            {replace_key} AS x_ReplaceKey
        FROM resolved
    """


def _canonical_columns(plan: Plan, columns: tuple[str, ...]) -> list[str]:
    """Canonical names, in header order; a duplicate canonical name gets a suffix (see ``unique_names``)."""
    adapter = registry.get(plan.adapter)
    return unique_names(adapter.canonical(column) for column in columns)


def _reader_sql(kind: str, path: Path, columns: tuple[str, ...], canonical: list[str], read_options: str,
                numbered: bool, strict: bool) -> str:
    file_literal = sql_string(str(path.resolve()))
    line = "row_number() OVER () + {}" if numbered else "0::BIGINT"  # (not NULL: error(NULL) would not raise)
    if kind == "csv":
        spec = "{" + ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in canonical) + "}"
        return (
            f"SELECT {line.format(1)} AS x_line, {file_literal} AS x_file, * FROM read_csv("
            f"{file_literal}, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"strict_mode = {str(strict).lower()}, nullstr = ['', 'NULL'], compression = 'auto', columns = {spec})"
        )
    renames = ", ".join(f"{quote_ident(orig)} AS {quote_ident(name)}" for orig, name in zip(columns, canonical,
                                                                                           strict=True))
    extra = f", {read_options}" if read_options else ""
    if kind == "parquet":
        return (f"SELECT file_row_number + 1 AS x_line, {file_literal} AS x_file, {renames} "
                f"FROM read_parquet({file_literal}, file_row_number = true{extra})")
    return (f"SELECT {line.format(0)} AS x_line, {file_literal} AS x_file, {renames} "
            f"FROM read_json({file_literal}, format = 'newline_delimited'{extra or ', sample_size = -1'})")


def _parsed_field(key: str, found: str | None, spec: Field, original: dict[str, str]) -> str:
    if found is None:
        return f"{_NULL_OF_KIND[spec.kind]} AS {quote_ident(key)}"
    label = sql_string(original.get(found, found))
    column = quote_ident(found)
    if spec.kind in _CHECKED_MACRO:
        expr = f"{_CHECKED_MACRO[spec.kind]}({column}, x_line, {label})"
    elif spec.kind == "text":
        expr = f"CAST({column} AS VARCHAR)"
    else:
        expr = column
    if spec.not_null:
        expr = f"ss_required({expr}, x_line, {label})"
    return f"{expr} AS {quote_ident(key)}"


def _focus_expr(name: str, plan: Plan) -> str:
    template = plan.focus.get(name)
    if template is None:
        if name in MANDATORY_FOCUS:
            raise RuntimeError(f"adapter {plan.adapter} does not map mandatory FOCUS column {name}")
        return "NULL"
    expr = _PLACEHOLDER.sub(lambda m: quote_ident(_check_field(plan, m.group(1))), template)
    if name in MANDATORY_FOCUS:
        expr = f"ss_required({expr}, x_line, {sql_string(name)})"
    return expr


def _check_field(plan: Plan, key: str) -> str:
    if key not in plan.fields:
        raise RuntimeError(f"adapter {plan.adapter} refers to unknown field {{{key}}}")
    return key


def _claim_replace_units(con: duckdb.DuckDBPyConnection, load_id: int,
                         source_export_time: datetime | None) -> list[str]:
    """Make this load own its replace units, dropping older rows, or its own rows where a newer export wins."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE new_units AS
        SELECT c.x_ReplaceKey AS replace_key, max(c.x_ExportTime) AS export_time,
               r.export_time AS stored_export_time,
               (r.export_time IS NOT NULL AND max(c.x_ExportTime) IS NOT NULL
                AND r.export_time > max(c.x_ExportTime)) AS superseded
        FROM cost_line c LEFT JOIN replace_unit r ON r.replace_key = c.x_ReplaceKey
        WHERE c.x_LoadId = ?
        GROUP BY c.x_ReplaceKey, r.export_time
        """,
        [load_id],
    )
    superseded = [row[0] for row in con.execute(
        "SELECT replace_key FROM new_units WHERE superseded ORDER BY 1").fetchall()]
    con.execute(
        """
        INSERT INTO touched
        SELECT DISTINCT ServiceProviderName, BillingAccountId, CAST(ChargePeriodStart AS DATE)
        FROM cost_line WHERE x_ReplaceKey IN (SELECT replace_key FROM new_units)
        """
    )
    con.execute(
        """
        DELETE FROM cost_line c USING new_units u
        WHERE c.x_ReplaceKey = u.replace_key
          AND ((u.superseded AND c.x_LoadId = $1) OR (NOT u.superseded AND c.x_LoadId <> $1))
        """,
        [load_id],
    )
    con.execute(
        """
        INSERT OR REPLACE INTO replace_unit
        SELECT replace_key, $1, export_time, now()::TIMESTAMP FROM new_units WHERE NOT superseded
        """,
        [load_id],
    )
    return [key.split("|")[3] if key.startswith("period|") else key for key in superseded]


def _reconcile_datasets(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Azure actual and amortized exports of one period coexist: once both are present, the actual rows carry
    BilledCost only and the amortized rows carry EffectiveCost, ListCost and ContractedCost only, so that
    every measure sums correctly over the union. A period with a single dataset keeps all its measures."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE both_datasets AS
        SELECT ServiceProviderName, BillingAccountId, BillingPeriodStart
        FROM cost_line
        WHERE x_Dataset IN ('actual', 'amortized')
          AND (ServiceProviderName, BillingAccountId, BillingPeriodStart) IN (
              SELECT DISTINCT ServiceProviderName, BillingAccountId, BillingPeriodStart
              FROM cost_line WHERE x_LoadId = ?)
        GROUP BY ALL
        HAVING count(DISTINCT x_Dataset) = 2
        """,
        [load_id],
    )
    if not con.execute("SELECT count(*) FROM both_datasets").fetchone()[0]:
        return
    for dataset, assignments in (
        ("actual", "EffectiveCost = 0, ListCost = 0, ContractedCost = 0"),
        ("amortized", "BilledCost = 0"),
    ):
        con.execute(
            f"""
            UPDATE cost_line c SET {assignments}
            FROM both_datasets b
            WHERE c.x_Dataset = '{dataset}' AND c.ServiceProviderName = b.ServiceProviderName
              AND c.BillingAccountId = b.BillingAccountId AND c.BillingPeriodStart = b.BillingPeriodStart
            """
        )
    con.execute(
        """
        INSERT INTO touched
        SELECT DISTINCT c.ServiceProviderName, c.BillingAccountId, CAST(c.ChargePeriodStart AS DATE)
        FROM cost_line c JOIN both_datasets b USING (ServiceProviderName, BillingAccountId, BillingPeriodStart)
        """
    )


def refresh_daily_rollup(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the rollup rows of every provider/account/date a load touched in this run."""
    con.execute("CREATE OR REPLACE TEMP TABLE touched_keys AS SELECT DISTINCT * FROM touched")
    if not con.execute("SELECT count(*) FROM touched_keys").fetchone()[0]:
        return
    con.execute("BEGIN TRANSACTION")
    con.execute(
        """
        DELETE FROM daily_spend_rollup r USING touched_keys t
        WHERE r.provider = t.provider AND r.billing_account_id = t.account AND r.date = t.date
        """
    )
    con.execute(
        """
        INSERT INTO daily_spend_rollup
        SELECT CAST(c.ChargePeriodStart AS DATE), c.ServiceProviderName, c.BillingAccountId,
               any_value(c.BillingAccountName), c.SubAccountId, any_value(c.SubAccountName),
               c.ServiceCategory, c.ServiceName, c.ChargeCategory, c.BillingCurrency,
               sum(c.BilledCost), sum(c.EffectiveCost), sum(c.ListCost), count(*)
        FROM cost_line c
        JOIN touched_keys t ON c.ServiceProviderName = t.provider AND c.BillingAccountId = t.account
                           AND CAST(c.ChargePeriodStart AS DATE) = t.date
        GROUP BY CAST(c.ChargePeriodStart AS DATE), c.ServiceProviderName, c.BillingAccountId, c.SubAccountId,
                 c.ServiceCategory, c.ServiceName, c.ChargeCategory, c.BillingCurrency
        """
    )
    con.execute("COMMIT")
    con.execute("DELETE FROM touched")


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


def _unchanged_load(con: duckdb.DuckDBPyConnection, sha: str, plan: Plan) -> int | None:
    row = con.execute(
        """
        SELECT l.load_id FROM load_log l
        WHERE l.sha256 = ? AND l.format = ? AND l.dataset = ? AND l.status = 'loaded'
          AND l.rows = (SELECT count(*) FROM cost_line c WHERE c.x_LoadId = l.load_id)
        ORDER BY l.load_id DESC LIMIT 1
        """,
        [sha, plan.adapter, plan.dataset],
    ).fetchone()
    return row[0] if row else None


def _load_summary(con: duckdb.DuckDBPyConnection,
                  load_id: int) -> tuple[int, list[CurrencyTotal], list[tuple[str, str]]]:
    """Rows, totals per currency and the (provider, billing account) pairs a load's rows belong to."""
    rows = con.execute(
        """
        SELECT BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost)
        FROM cost_line WHERE x_LoadId = ? GROUP BY 1 ORDER BY 1
        """,
        [load_id],
    ).fetchall()
    totals = [CurrencyTotal(cur, n, billed, effective) for cur, n, billed, effective in rows]
    scope = con.execute(
        "SELECT DISTINCT ServiceProviderName, BillingAccountId FROM cost_line WHERE x_LoadId = ? ORDER BY ALL",
        [load_id],
    ).fetchall()
    return sum(t.rows for t in totals), totals, scope


def _log_load(con: duckdb.DuckDBPyConnection, result: LoadResult, source: Source, sha: str | None,
              dataset: str | None, started: datetime, synthetic: bool) -> None:
    load_id = result.load_id if result.status in ("loaded", "superseded") else None
    if load_id is None:
        load_id = con.execute("SELECT nextval('load_id_seq')").fetchone()[0]
    totals = [{"currency": t.currency, "rows": t.rows, "billed": t.billed, "effective": t.effective}
              for t in result.totals]
    con.execute(
        """
        INSERT INTO load_log (load_id, kind, source, files, sha256, bytes, format, dataset, export_time, rows,
                              totals, scope, status, error, message, started_at, finished_at, synthetic)
        VALUES (?, 'billing', ?, ?, ?, ?, ?, ?, ?, ?, ?::STRUCT(currency VARCHAR, rows BIGINT,
                billed DECIMAL(38, 12), effective DECIMAL(38, 12))[],
                ?::STRUCT(provider VARCHAR, account VARCHAR)[], ?, ?, ?, ?, ?, ?)
        """,
        [load_id, source.label, [str(f) for f in source.files], sha, _size(source), result.format, dataset,
         _naive_utc(source.export_time), result.rows, totals,
         [{"provider": p, "account": a} for p, a in result.scope], result.status, result.error, result.message,
         _naive_utc(started), _naive_utc(_now()), synthetic],
    )


def _size(source: Source) -> int | None:
    try:
        return source.total_bytes
    except OSError:
        return None


def _add_provider_aliases(con: duckdb.DuckDBPyConnection, aliases: dict[str, str]) -> None:
    for alias, name in aliases.items():
        con.execute("DELETE FROM provider_alias WHERE alias = ?", [alias.strip().lower()])
        con.execute("INSERT INTO provider_alias VALUES (?, ?)", [alias.strip().lower(), name])


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """Turn a DuckDB error into one line a user can act on (line numbers of CSV errors kept)."""
    text = str(exc)
    line = _CSV_LINE.search(text)
    if line:
        counts = _COLUMNS_FOUND.search(text)
        if counts:
            return (f"line {line.group(1)}: expected {counts.group(1)} fields as in the header, found "
                    f"{counts.group(2)} (ragged row)")
        if "unterminated quote" in text:
            return f"line {line.group(1)}: a quoted value is never closed (unterminated quote)"
        detail = next((part for part in text.splitlines()[1:] if part.strip()), "")
        return f"line {line.group(1)}: malformed CSV ({detail.strip()})"
    first = text.splitlines()[0]
    return re.sub(r"^(Invalid Input|Conversion|Binder|Parser) Error: ", "", first)


def _with_file(source: Source, message: str) -> str:
    name = source.label
    return message if message.startswith(name) else f"{name}: {message}"


def format_totals(totals: list[CurrencyTotal]) -> str:
    """Totals per currency, never added across currencies: ``USD 12.34; CAD 5.00``."""
    if not totals:
        return "-"
    return "; ".join(f"{t.currency} {t.billed.quantize(Decimal('0.01')):,}" for t in totals)


def _now() -> datetime:
    return datetime.now(UTC)


def _naive_utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None
