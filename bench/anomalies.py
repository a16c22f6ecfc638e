"""Benchmark of the ``anomalies`` step on the 10-million-row dashboard warehouse.

Setup (not timed): a copy (a reflink where the filesystem has them) of ``bench/dashboard.py``'s warehouse
(``data/bench-dashboard/warehouse.duckdb``; build it first with ``bench/dashboard.py --build-only``) in a temporary
folder, opened in a write session (its migrations applied), so the benchmark never changes the shared warehouse.

Timed, ``--repeats`` times (median): the step as ``etl run`` runs it, :func:`etl.finops.anomalies.run` in the
session: every daily series read with ``daily_series`` (levels total, provider, service, account; billing and
reporting bases), one robust STL fit per series, the flags, and the stored result in one transaction. Also reported:
detection alone. Target: the step under 15 s (anomalies and forecasts share 30 s).

    .venv/bin/python bench/anomalies.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402 - after the path set-up, so the script runs from anywhere
from etl.finops import anomalies  # noqa: E402
from etl.finops.anomalies import AnomalySettings  # noqa: E402
from etl.warehouse import Warehouse, clone_or_copy  # noqa: E402

TARGET_S = 15.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "data" / "bench-dashboard" / "warehouse.duckdb",
                        help="the benchmark warehouse (default data/bench-dashboard/warehouse.duckdb)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.db.is_file():
        print(f"{args.db} not found: build it with `bench/dashboard.py --build-only`", file=sys.stderr)
        return 2
    settings = AnomalySettings()
    with tempfile.TemporaryDirectory(dir=args.db.parent) as folder:
        copy = Path(folder) / "warehouse.duckdb"
        clone_or_copy(args.db, copy)
        with Warehouse(copy).write("bench anomalies") as session:
            [(rows,)] = session.con.execute("SELECT count(*) FROM cost_line").fetchall()
            detect_s, step_s = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                found = anomalies.detect(session.con, "USD", settings)
                detect_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                stored = anomalies.run(session, "USD", settings)
                step_s.append(time.perf_counter() - started)
    print(f"{rows:,} cost rows; {found.series_scored} series scored, {found.series_skipped} skipped, "
          f"{found.days_scored:,} days of the last {settings.recent_days} scored; {anomalies.summary(stored, top=1)}")
    print(f"detect {statistics.median(detect_s):.2f} s, step (detect + store) {statistics.median(step_s):.2f} s "
          f"(median of {args.repeats})")
    return record("anomalies", [
        Figure(f"anomalies step (detect + store), {rows / 1e6:.0f}M rows, {found.series_scored} series",
               statistics.median(step_s), "s", TARGET_S),
        Figure("anomalies detection alone", statistics.median(detect_s), "s"),
    ])


if __name__ == "__main__":
    sys.exit(main())
