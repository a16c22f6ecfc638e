"""BigQuery billing export benchmark: a 1,000,000-row query result, in REST pages of 100,000 rows, from the stand-in
(tests/gcp/standin.py, serving BigQuery's routes from this process) into a fresh warehouse through the real client,
the spool and the gcp normalisation (etl/gcp).

The load runs in its own process, which reports its wall time and its peak resident memory (``VmHWM``), once for
one page (100,000 rows) and once for ten (1,000,000). Streaming shows as a peak that does not grow with the number
of pages: the client holds one page at a time, and DuckDB appends it to the spool.

Targets: at least 10,000 rows/s end to end, a peak under 2 GiB, and the 1,000,000-row peak within 1.5x the
100,000-row one.

    .venv/bin/python bench/bigquery.py                  # 1,000,000 rows
    .venv/bin/python bench/bigquery.py --rows 200000    # quick run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402
from etl.gcp.bigquery_export import CREDIT_TYPES, PAGE_ROWS  # noqa: E402
from tests.gcp.bigquery_standin import QueryResult, cell, install  # noqa: E402
from tests.gcp.standin import StandIn  # noqa: E402

TABLE = "bench-admin.billing.gcp_billing_export_resource_v1_0A0A0A_0B0B0B_0C0C0C"
TARGET_ROWS_PER_S = 10_000
TARGET_PEAK_MB = 2048
TARGET_GROWTH = 1.5

CHILD = r"""
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
config_file, db_file, table = sys.argv[2:5]
from google.cloud import bigquery  # imports before the clock starts
from etl import pipelines
from etl.billing.base import LoadOptions
from etl.config import load_config
from etl.gcp.bigquery_export import BigQuerySource
from etl.warehouse import Warehouse
config = load_config(Path(config_file), environ={})
source = BigQuerySource.parse(table, "bench", backfill_months=2)
start = time.perf_counter()
fetched = pipelines.fetch_bigquery(config, source, now=datetime.now(UTC))
fetched_s = time.perf_counter() - start
with Warehouse(Path(db_file)).write("bench") as session:
    [loaded] = pipelines.load_bigquery(session, [fetched], LoadOptions())
seconds = time.perf_counter() - start
[peak_kb] = [int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
             if line.startswith("VmHWM:")]
print(json.dumps({"status": loaded.status, "error": loaded.error, "rows": loaded.rows, "seconds": seconds,
                  "fetch_seconds": fetched_s, "peak_mb": peak_kb / 1024}))
"""


def result_rows(total: int) -> QueryResult:
    """``total`` distinct result rows (SKU-days of 50 projects over two invoice months), made page by page."""
    today = datetime.now(UTC).date()
    days = [today.replace(day=1) - timedelta(days=offset) for offset in range(0, 40)]
    credits = len(CREDIT_TYPES) + 1

    def make(start: int, stop: int) -> list[list[object]]:
        return [_row(i, days[i % len(days)], credits) for i in range(start, stop)]

    return QueryResult(total=total, make_rows=make, bytes_processed=3_000_000_000)


def _row(i: int, day: date, credits: int) -> list[object]:
    month = f"{day.year:04d}{day.month:02d}"
    cost = f"{(i % 997) / 100 + 0.01:.2f}"
    return ["0A0A0A-0B0B0B-0C0C0C", month, day.isoformat(), f"project-{i % 50}", f"Project {i % 50}",
            "6F81-5844-456A", "Compute Engine", f"SKU-{i // 40:06d}", f"SKU {i // 40}", "us-central1", "us-central1",
            "USD", "regular", None, cost, cost, "3600.0", "seconds", "1.0", "hour",
            *(["-0.01"] + ["0"] * (credits - 1)), cell(datetime(day.year, day.month, day.day, 12, tzinfo=UTC)), "24"]


def measure(endpoint: str, work: Path) -> dict:
    config = work / "config.toml"
    config.write_text(f'[gcp]\ncredentials = "anonymous"\nbigquery_endpoint = "{endpoint}"\n')
    db = work / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(config), str(db), TABLE],
                          capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode:
        raise SystemExit(f"the load failed:\n{done.stderr[-3000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    if outcome["status"] != "loaded":
        raise SystemExit(f"the load failed: {outcome['error']}")
    return outcome


def run(rows: int) -> dict:
    with StandIn() as standin, tempfile.TemporaryDirectory(prefix="bench-bigquery-") as work:
        result = result_rows(rows)
        result.prerender(PAGE_ROWS)
        install(standin, result)
        outcome = measure(standin.endpoint, Path(work))
    assert outcome["rows"] == rows, outcome
    print(f"{rows:>9,} rows: {outcome['seconds']:.1f} s ({rows / outcome['seconds']:,.0f} rows/s; query and spool "
          f"{outcome['fetch_seconds']:.1f} s), peak {outcome['peak_mb']:,.0f} MiB", flush=True)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    page = min(PAGE_ROWS, args.rows)
    one_page, full = run(page), run(args.rows)
    label = f"{args.rows:,} rows"
    return record("bigquery", [
        Figure(f"BigQuery result to warehouse, {label}", args.rows / full["seconds"], "rows/s", TARGET_ROWS_PER_S,
               higher_is_better=True),
        Figure(f"peak memory, {label} in pages of {page:,}", full["peak_mb"], "MiB", TARGET_PEAK_MB),
        Figure(f"peak memory, {label} / {page:,} rows", full["peak_mb"] / one_page["peak_mb"], "x", TARGET_GROWTH),
    ])


if __name__ == "__main__":
    sys.exit(main())
