"""BigQuery's REST routes on the stand-in (tests/gcp/standin.py), answering as the BigQuery v2 reference documents.

``jobs.insert`` (``POST /bigquery/v2/projects/{p}/jobs``): a dry run comes back DONE with
``statistics.query.totalBytesProcessed``; a query job comes back RUNNING, and ``jobs.get`` (``GET …/jobs/{id}``)
reports it DONE. ``jobs.getQueryResults`` (``GET …/queries/{id}``) returns the result's ``schema`` and ``rows``
in the ``f``/``v`` form, ``maxResults`` rows per page with a ``pageToken`` to the next one. The stand-in cannot run
SQL: a test gives it the result the query should have (:class:`QueryResult`) and asserts on the SQL it was sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from etl.gcp.bigquery_export import CREDIT_TYPES
from tests.gcp.standin import Request, StandIn

JOBS = r"/bigquery/v2/projects/([^/]+)/jobs"
JOB = r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)"
RESULTS = r"/bigquery/v2/projects/([^/]+)/queries/([^/]+)"

# The result schema of the aggregation query (etl/gcp/bigquery_export.py), as BigQuery describes it.
FIELDS: tuple[tuple[str, str], ...] = (
    ("billing_account_id", "STRING"), ("invoice_month", "STRING"), ("usage_date", "DATE"),
    ("project_id", "STRING"), ("project_name", "STRING"), ("service_id", "STRING"),
    ("service_description", "STRING"), ("sku_id", "STRING"), ("sku_description", "STRING"),
    ("location_region", "STRING"), ("location_name", "STRING"), ("currency", "STRING"), ("cost_type", "STRING"),
    ("labels_json", "STRING"), ("cost", "NUMERIC"), ("cost_at_list", "NUMERIC"), ("usage_amount", "FLOAT"),
    ("usage_unit", "STRING"), ("pricing_amount", "FLOAT"), ("pricing_unit", "STRING"),
    *((f"credit_{kind.lower()}", "NUMERIC") for kind in (*CREDIT_TYPES, "OTHER")),
    ("export_time", "TIMESTAMP"), ("export_rows", "INTEGER"),
)


def row(**values: Any) -> dict[str, Any]:
    """One result row: the given values over plausible defaults (one SKU-day of Compute Engine)."""
    base: dict[str, Any] = {
        "billing_account_id": "012345-6789AB-CDEF01", "invoice_month": "202506", "usage_date": date(2025, 6, 10),
        "project_id": "ml-training", "project_name": "ML training", "service_id": "6F81-5844-456A",
        "service_description": "Compute Engine", "sku_id": "CP-A100", "sku_description": "Nvidia A100 GPU",
        "location_region": "us-central1", "location_name": "us-central1", "currency": "USD", "cost_type": "regular",
        "labels_json": None, "cost": Decimal("100.00"), "cost_at_list": Decimal("120.00"), "usage_amount": 36000.0,
        "usage_unit": "seconds", "pricing_amount": 10.0, "pricing_unit": "hour",
        **{f"credit_{kind.lower()}": Decimal(0) for kind in (*CREDIT_TYPES, "OTHER")},
        "export_time": datetime(2025, 6, 11, 3, 0, tzinfo=UTC), "export_rows": 24,
    }
    unknown = set(values) - set(base)
    assert not unknown, f"not a result column: {unknown}"
    return base | values


def cell(value: Any) -> Any:
    """A value as getQueryResults encodes it (TIMESTAMP as microseconds: the client asks useInt64Timestamp)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return str(int(value.timestamp() * 1_000_000))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class QueryResult:
    """What the stand-in's BigQuery answers to every query: ``rows`` (dicts, or ``make_rows(start, stop)`` for a
    large generated result of ``total`` rows) and the dry-run estimate."""

    rows: Sequence[dict[str, Any]] = ()
    bytes_processed: int = 5_000_000
    total: int | None = None
    make_rows: Callable[[int, int], list[list[Any]]] | None = None  # rows already in f/v cell values
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rendered: dict[tuple[int, int], bytes] = field(default_factory=dict)  # (start, size): a page's reply as JSON
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        return self.total if self.total is not None else len(self.rows)

    def prerender(self, size: int) -> None:
        """Serialise every page of ``size`` rows ahead (a benchmark then times the client, not the stand-in)."""
        for start in range(0, self.count, size):
            reply = _page_reply(self, "stand-in", "prerendered", start, size)
            self.rendered[(start, size)] = json.dumps(reply).encode()

    def page(self, start: int, stop: int) -> list[dict[str, Any]]:
        if self.make_rows is not None:
            return [{"f": [{"v": v} for v in values]} for values in self.make_rows(start, stop)]
        return [{"f": [{"v": cell(r[name])} for name, _ in FIELDS]} for r in self.rows[start:stop]]


def install(standin: StandIn, result: QueryResult) -> None:
    """Answer BigQuery's job and result routes from ``result``."""
    standin.route("POST", JOBS, lambda req, m: _insert(result, req, m))
    standin.route("GET", JOB, lambda req, m: (200, _job(result, m[1], m[2], "DONE")))
    standin.route("GET", RESULTS, lambda req, m: _results(result, req, m))


def queries(standin: StandIn) -> list[dict[str, Any]]:
    """The job configurations of every ``jobs.insert`` the client sent (dry runs included), in order."""
    return [r.body["configuration"] for r in standin.sent("POST", JOBS)]


def _insert(result: QueryResult, req: Request, match: re.Match[str]) -> tuple[int, Any]:
    body = req.body
    job_id = body["jobReference"]["jobId"]
    with result._lock:
        result.jobs[job_id] = body["configuration"]
    dry = bool(body["configuration"].get("dryRun"))
    return 200, _job(result, match[1], job_id, "DONE" if dry else "RUNNING")


def _job(result: QueryResult, project: str, job_id: str, state: str) -> dict[str, Any]:
    configuration = result.jobs.get(job_id, {"query": {"query": ""}})
    dry = bool(configuration.get("dryRun"))
    statistics: dict[str, Any] = {"creationTime": "1749513600000", "startTime": "1749513600000",
                                  "query": {"totalBytesProcessed": str(result.bytes_processed),
                                            "statementType": "SELECT"}}
    if state == "DONE" and not dry:
        statistics["endTime"] = "1749513601000"
        statistics["query"]["totalBytesBilled"] = str(result.bytes_processed)
    return {"kind": "bigquery#job", "id": f"{project}:US.{job_id}", "configuration": configuration,
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "status": {"state": state}, "statistics": statistics}


def _results(result: QueryResult, req: Request, match: re.Match[str]) -> tuple[int, Any]:
    start = int(req.param("pageToken") or 0)
    size = int(req.param("maxResults") or 10_000)
    rendered = result.rendered.get((start, size))
    return 200, rendered if rendered is not None else _page_reply(result, match[1], match[2], start, size)


def _page_reply(result: QueryResult, project: str, job_id: str, start: int, size: int) -> dict[str, Any]:
    stop = min(start + size, result.count)
    reply: dict[str, Any] = {
        "kind": "bigquery#getQueryResultsResponse", "jobComplete": True, "totalRows": str(result.count),
        "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
        "schema": {"fields": [{"name": name, "type": kind, "mode": "NULLABLE"} for name, kind in FIELDS]},
        "rows": result.page(start, stop),
    }
    if stop < result.count:
        reply["pageToken"] = str(stop)
    return reply
