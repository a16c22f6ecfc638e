"""The Google Cloud billing export in BigQuery as a billing source: the query that aggregates it where it lives, and
the fetch that streams the result into a local spool before the writer lock is taken.

**The query** (:func:`query_sql`) groups the export by the grain: the usage day, billing account, invoice month,
project, service, SKU, location (region and multi-region), currency and cost type, plus the resource labels when
the source asks for them. The day is ``DATE(usage_start_time, 'America/Los_Angeles')``: Google invoices, and its
console reports days, in Pacific time, so a day here is the Pacific day the export's invoice month is made of. It
sums ``cost`` (and ``cost_at_list``, usage) as NUMERIC, so that totals are exact decimals, and the credits by type
with a correlated subquery over each row's own ``credits`` array, so every credit is counted once (never a join
against another repeated field, which would repeat a row per label).

**The partitions read.** Each run re-reads whole invoice months, since an export replaces (account, invoice
month) units: the current and the previous month (late and restated rows), and every month since the last
successful load of the source (a run that did not happen for a while catches up); the first run reads
``backfill_months`` months. The filter is ``invoice.month IN (…)`` plus a bound on ``_PARTITIONTIME`` (the export
tables are partitioned by the day rows were exported, and no row of an invoice month is exported before the
month starts), so BigQuery prunes older partitions.

**Dry run first.** The query is dry-run (nothing billed) and refused when its estimate exceeds
``max_bytes_billed``; the real query then runs with ``maximum_bytes_billed`` set, so BigQuery itself refuses to
bill more.

**Bounded waits.** Every call gets ``gcp.timeout_s`` (default 300 s; the client's own default is 600 s per request):
as each HTTP request's timeout, as the deadline of the client's retries (transient errors, dropped connections) and
as the longest wait for the job to finish, so a BigQuery that does not answer fails the source with a message naming
the setting instead of holding the run.

**Streaming.** Result pages come as Arrow record batches (REST pages of ``PAGE_ROWS`` rows); each is registered
with a spool DuckDB database and appended by one ``INSERT … SELECT``, so neither the result nor its rows are ever
held in Python. The spool is read by ``bigquery_load.py`` in the write session.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb

if TYPE_CHECKING:
    from google.cloud import bigquery

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
PAGE_ROWS = 100_000
DEFAULT_BACKFILL_MONTHS = 13
DEFAULT_MAX_BYTES_BILLED = 20_000_000_000
# Credit types of the export's documented `credits.type`; credits of any other type are summed in credit_other.
CREDIT_TYPES = ("SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
                "DISCOUNT", "FREE_TIER", "PROMOTION", "SUBSCRIPTION_BENEFIT", "RESELLER_MARGIN",
                "FEE_UTILIZATION_OFFSET")
_TABLE_ID = re.compile(r"^(?P<project>[A-Za-z0-9][A-Za-z0-9.:_-]*)\.(?P<dataset>\w+)\."
                       r"(?P<table>gcp_billing_export_(?:resource_)?v1_\w+)$")
_GROUP_COLUMNS = ("billing_account_id", "invoice_month", "usage_date", "project_id", "service_id",
                  "service_description", "sku_id", "sku_description", "location_region", "location_name", "currency",
                  "cost_type")
# The spool table: the result columns as DuckDB stores them.
SPOOL_TABLE = "export_rows"
_SPOOL_COLUMNS = {
    "billing_account_id": "VARCHAR", "invoice_month": "VARCHAR", "usage_date": "DATE", "project_id": "VARCHAR",
    "project_name": "VARCHAR", "service_id": "VARCHAR", "service_description": "VARCHAR", "sku_id": "VARCHAR",
    "sku_description": "VARCHAR", "location_region": "VARCHAR", "location_name": "VARCHAR", "currency": "VARCHAR",
    "cost_type": "VARCHAR", "labels_json": "VARCHAR", "cost": "DECIMAL(38, 9)", "cost_at_list": "DECIMAL(38, 9)",
    "usage_amount": "DOUBLE", "usage_unit": "VARCHAR", "pricing_amount": "DOUBLE", "pricing_unit": "VARCHAR",
    **{f"credit_{kind.lower()}": "DECIMAL(38, 9)" for kind in (*CREDIT_TYPES, "OTHER")},
    "export_time": "TIMESTAMP", "export_rows": "BIGINT",  # export_time: UTC
}


class BigQueryExportError(RuntimeError):
    """The source could not be read; the message names the table (and the project or account when it matters)."""


class BigQuerySourceError(ValueError):
    """A ``[[billing.sources]]`` BigQuery table with a bad key; the message names the source and the key."""


@dataclass(frozen=True)
class BigQuerySource:
    """One billing export table and how to read it (the keys of its ``[[billing.sources]]`` table)."""

    project: str
    dataset: str
    table: str
    name: str = ""
    location: str = ""
    labels: bool = False
    backfill_months: int = DEFAULT_BACKFILL_MONTHS
    max_bytes_billed: int = DEFAULT_MAX_BYTES_BILLED
    billing_project: str = ""  # the project whose jobs run (and are billed) the query; default: the table's

    @property
    def table_id(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"

    @property
    def label(self) -> str:
        """How the source is named in ``load_log``, the summary and the rows' ``x_SourceFormat``."""
        return f"bigquery:{self.table_id}"

    @property
    def job_project(self) -> str:
        return self.billing_project or self.project

    @classmethod
    def parse(cls, table_id: str, where: str, **options: Any) -> BigQuerySource:
        """A source from ``project.dataset.gcp_billing_export_[resource_]v1_<ACCOUNT>`` and its options."""
        match = _TABLE_ID.match(table_id.strip())
        if not match:
            raise BigQuerySourceError(
                f"{where}: bigquery_table {table_id!r} is not project.dataset.table with a standard "
                "(gcp_billing_export_v1_<ACCOUNT>) or detailed (gcp_billing_export_resource_v1_<ACCOUNT>) "
                "billing export table")
        for key in ("backfill_months", "max_bytes_billed"):
            if key in options and options[key] < 1:
                raise BigQuerySourceError(f"{where}: {key} must be at least 1, got {options[key]}")
        return cls(match["project"], match["dataset"], match["table"], **options)


def invoice_months(now: datetime, last_loaded: datetime | None, backfill_months: int) -> list[str]:
    """The invoice months (``YYYYMM``, Pacific time) a run re-reads, oldest first (see the module docstring)."""
    current = _month_index(now.astimezone(PACIFIC).date())
    if last_loaded is None:
        first = current - backfill_months + 1
    else:
        first = min(current - 1, _month_index(last_loaded.astimezone(PACIFIC).date()) - 1)
    return [f"{index // 12:04d}{index % 12 + 1:02d}" for index in range(first, current + 1)]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def query_sql(source: BigQuerySource, months: list[str]) -> str:
    """The aggregation query of ``months`` (GoogleSQL; see the module docstring)."""
    first = months[0]
    # The first UTC day on which a row of the earliest month can have been exported: its Pacific start, a day early.
    partition_floor = f"DATE_SUB(DATE '{first[:4]}-{first[4:]}-01', INTERVAL 1 DAY)"
    credits = [f"SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) c WHERE c.type = '{kind}'), "
               f"0)) AS credit_{kind.lower()}" for kind in CREDIT_TYPES]
    known = ", ".join(f"'{kind}'" for kind in CREDIT_TYPES)
    credits.append(f"SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) c "
                   f"WHERE c.type IS NULL OR c.type NOT IN ({known})), 0)) AS credit_other")
    labels = "TO_JSON_STRING(labels)" if source.labels else "CAST(NULL AS STRING)"
    group = ", ".join(_GROUP_COLUMNS + (("labels_json",) if source.labels else ()))
    measures = ",\n  ".join(credits)
    return f"""SELECT
  billing_account_id,
  invoice.month AS invoice_month,
  DATE(usage_start_time, 'America/Los_Angeles') AS usage_date,
  project.id AS project_id,
  ANY_VALUE(project.name) AS project_name,
  service.id AS service_id,
  service.description AS service_description,
  sku.id AS sku_id,
  sku.description AS sku_description,
  location.region AS location_region,
  location.location AS location_name,
  currency,
  cost_type,
  {labels} AS labels_json,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(CAST(IFNULL(cost_at_list, cost) AS NUMERIC)) AS cost_at_list,
  SUM(usage.amount) AS usage_amount,
  ANY_VALUE(usage.unit) AS usage_unit,
  SUM(usage.amount_in_pricing_units) AS pricing_amount,
  ANY_VALUE(usage.pricing_unit) AS pricing_unit,
  {measures},
  MAX(export_time) AS export_time,
  COUNT(*) AS export_rows
FROM `{source.table_id}`
WHERE invoice.month IN ({", ".join(f"'{month}'" for month in months)})
  AND _PARTITIONTIME >= TIMESTAMP({partition_floor})
GROUP BY {group}"""


@dataclass
class Fetched:
    """What a fetch left for the load: the spool database holding the result rows, or the error that stopped it."""

    source: BigQuerySource
    months: list[str]
    spool: Path | None = None
    rows: int = 0
    bytes_estimated: int | None = None
    bytes_billed: int | None = None
    error: str | None = None
    _cleanup: Any = field(default=None, repr=False)

    def discard(self) -> None:
        """Remove the spool (also done at interpreter exit)."""
        if self._cleanup is not None:
            self._cleanup()


def fetch(client: bigquery.Client, source: BigQuerySource, months: list[str],
          memory_limit: str = "512MB", timeout_s: float = 300.0) -> Fetched:
    """Dry-run, check the estimate, run the query and stream its pages into a spool, each call bounded by
    ``timeout_s``; never raises for a BigQuery error or timeout (it is the :attr:`Fetched.error`)."""
    import requests
    from google.api_core import exceptions
    from google.cloud import bigquery

    fetched = Fetched(source, months)
    sql = query_sql(source, months)
    location = source.location or None
    bounded = _Bounded(timeout_s)
    try:
        dry = client.query(sql, job_config=bigquery.QueryJobConfig(dry_run=True, use_query_cache=False),
                           location=location, project=source.job_project, **bounded.query)
        fetched.bytes_estimated = int(dry.total_bytes_processed or 0)
        log.info("%s: dry run of invoice months %s-%s estimates %s bytes", source.label, months[0], months[-1],
                 f"{fetched.bytes_estimated:,}")
        if fetched.bytes_estimated > source.max_bytes_billed:
            raise BigQueryExportError(
                f"the query would process {fetched.bytes_estimated:,} bytes ({_gb(fetched.bytes_estimated)}), more "
                f"than max_bytes_billed {source.max_bytes_billed:,} ({_gb(source.max_bytes_billed)}); nothing was "
                f"read. Raise max_bytes_billed or lower backfill_months")
        rows, fetched.bytes_billed = _run_query(client, bigquery.QueryJobConfig(
            maximum_bytes_billed=source.max_bytes_billed), sql, location, source.job_project, bounded)
        fetched.spool = _new_spool(fetched)
        fetched.rows = _stream(rows, fetched.spool, memory_limit)
        log.info("%s: %s result rows spooled (%s bytes billed)", source.label, f"{fetched.rows:,}",
                 f"{fetched.bytes_billed or 0:,}")
    except BigQueryExportError as exc:
        fetched.error = str(exc)
    except exceptions.Forbidden as exc:
        fetched.error = (f"permission denied ({_reason(exc)}): the credentials need BigQuery Job User "
                         f"(bigquery.jobs.create) on project {source.job_project} and BigQuery Data Viewer on "
                         f"table {source.table_id}")
    except exceptions.NotFound as exc:
        fetched.error = f"not found ({_reason(exc)}): check the project, dataset and table {source.table_id}"
    except (TimeoutError, requests.exceptions.Timeout, exceptions.RetryError) as exc:
        fetched.error = (f"BigQuery did not answer within {timeout_s:g} s (setting gcp.timeout_s): {_reason(exc)}; "
                         "nothing was read")
    except exceptions.GoogleAPIError as exc:
        fetched.error = f"BigQuery failed: {_reason(exc)}"
    except duckdb.Error as exc:
        fetched.error = f"the result could not be spooled: {_reason(exc)}"
    if fetched.error:
        fetched.discard()
        fetched.spool, fetched.rows = None, 0
        log.error("%s: %s", source.label, fetched.error)
    return fetched


class _Bounded:
    """The keyword arguments that bound a client call by ``timeout_s``: the per-request timeout and the retries'
    deadline (google-api-core's ``with_timeout``)."""

    def __init__(self, timeout_s: float) -> None:
        from google.cloud.bigquery import retry

        self.timeout = timeout_s
        self.retry = retry.DEFAULT_RETRY.with_timeout(timeout_s)
        self.job_retry = retry.DEFAULT_JOB_RETRY.with_timeout(timeout_s)

    @property
    def query(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "retry": self.retry, "job_retry": self.job_retry}


def _run_query(client: bigquery.Client, config: bigquery.QueryJobConfig, sql: str, location: str | None,
               project: str, bounded: _Bounded) -> tuple[bigquery.table.RowIterator, int | None]:
    """Run the query to completion: its row iterator and the bytes billed. The job is not kept: it holds the
    first result page, which would stay in memory beside the following pages."""
    job = client.query(sql, job_config=config, location=location, project=project, **bounded.query)
    rows = job.result(page_size=PAGE_ROWS, timeout=bounded.timeout, retry=bounded.retry,
                      job_retry=bounded.job_retry)
    return rows, job.total_bytes_billed


def _new_spool(owner: Fetched) -> Path:
    """A spool file in a new temporary folder, removed by ``owner.discard()`` or when ``owner`` is collected."""
    folder = tempfile.mkdtemp(prefix="spendscope-bigquery-")
    owner._cleanup = weakref.finalize(owner, shutil.rmtree, folder, ignore_errors=True)
    return Path(folder) / "spool.duckdb"


def _stream(rows: bigquery.table.RowIterator, spool: Path, memory_limit: str) -> int:
    """Append each result page to the spool with one set-based INSERT; the number of rows.

    A page is taken as BigQuery sent it (``rows[].f[].v``, the cells as text) and turned into Arrow by pyarrow in
    one call, then typed by DuckDB from the result's schema. The client's own Arrow conversion builds a Python
    object per cell (about 15 s per 100,000-row page on the benchmark machine, ten times this). The page's JSON
    is dropped once it is Arrow, so at most one page is held while the next one is fetched.
    """
    import pyarrow as pa

    con = duckdb.connect(str(spool), config={"memory_limit": memory_limit})
    try:
        columns = ", ".join(f"{name} {kind}" for name, kind in _SPOOL_COLUMNS.items())
        con.execute(f"CREATE TABLE {SPOOL_TABLE} ({columns})")
        count, select = 0, None
        for number, page in enumerate(rows.pages, start=1):
            select = select or _typed_select(rows.schema)
            cells = page.raw_page.get("rows") or []
            table = pa.table({"r": pa.array(cells, type=_page_row_type())})
            cells.clear()
            con.register("bq_page", table)
            con.execute(f"INSERT INTO {SPOOL_TABLE} BY NAME {select}")
            con.unregister("bq_page")
            count += table.num_rows
            log.debug("page %d: %d rows", number, table.num_rows)
        con.execute("CHECKPOINT")
        return count
    finally:
        con.close()


def _page_row_type() -> Any:
    import pyarrow as pa

    return pa.struct([pa.field("f", pa.list_(pa.struct([pa.field("v", pa.string())])))])


def _typed_select(schema: list[bigquery.SchemaField]) -> str:
    """The page's cells as the spool's columns: each cast from BigQuery's text form by its result type."""
    unknown = [column.name for column in schema if column.name not in _SPOOL_COLUMNS]
    if unknown:
        raise BigQueryExportError(f"the result has columns the spool does not know: {', '.join(unknown)}")
    casts = {"TIMESTAMP": "make_timestamp(CAST({} AS BIGINT))"}  # microseconds (the client asks for them)
    columns = []
    for index, column in enumerate(schema, start=1):
        cast = casts.get(column.field_type, f"CAST({{}} AS {_SPOOL_COLUMNS[column.name]})")
        columns.append(f"{cast.format(f'r.f[{index}].v')} AS {column.name}")
    return f"SELECT {', '.join(columns)} FROM bq_page"


def _reason(exc: Exception) -> str:
    """BigQuery's own message (the first of ``error.errors``), without the client's URL and job id."""
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = first.get("message") or getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())


def _gb(count: int) -> str:
    return f"{count / 1e9:,.2f} GB"
