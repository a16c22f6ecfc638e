"""Ingest benchmark: the full normalised load of big generated exports next to DuckDB's bare read.

For each format (Azure EA CSV, Google Cloud newline-delimited JSON, AWS CUR 2.0 Parquet) the demo generator
writes one file of ``--rows`` rows. Each measurement runs in its own process, which reports its wall time and
its peak resident memory (``VmHWM`` on Linux, ``ru_maxrss`` elsewhere):

* bare: ``CREATE TABLE t AS SELECT * FROM read_…(file)`` into a fresh DuckDB file, DuckDB's defaults (the EA
  CSV's date format given, see FORMATS);
* full: ``etl.billing`` loading the same file into a fresh warehouse through the real write path
  (copy-on-write, parse checks, FOCUS normalisation, replace units, load_log, daily rollup), with the configured
  ``warehouse.*`` settings (their defaults: ``load_config`` is given no environment).

Targets (issue 12), recorded with ``bench/targets.py``: the full load within 1.5x the bare read's time for the CSV
and the JSON file and 1.3x for the Parquet file, each full load's peak memory under 1 GiB. Imports are out of the
timing: the clock starts in the child after them.

    .venv/bin/python bench/ingest.py                 # 5,000,000 rows per format
    .venv/bin/python bench/ingest.py --rows 200000   # quick run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402

# label: (demo provider, the bare read's table function with ? for the file, short name in the figures, target of
# full / bare). An EA export writes dates as M/D/YYYY in date order, so DuckDB's sniffer, which samples the first
# 20,480 rows, sees only 1-3 January at 5,000,000 rows, guesses D/M/YYYY and fails at 1/13/2024: the bare read is
# told the date format, nothing else.
FORMATS = {
    "Azure EA CSV": ("Microsoft", "read_csv(?, dateformat = '%m/%d/%Y')", "CSV", 1.5),
    "Google Cloud NDJSON": ("Google Cloud", "read_json(?)", "NDJSON", 1.5),
    "AWS CUR 2.0 Parquet": ("AWS", "read_parquet(?)", "Parquet", 1.3),
}
TARGET_PEAK_MIB = 1024

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
mode, data_file, db_file, reader = sys.argv[2:6]
import duckdb  # imports before the clock starts: the load is timed, not Python's start-up
from etl.billing.base import LoadOptions
from etl.billing.sources import expand_paths
from etl.config import load_config
from etl.pipelines import load_billing
from etl.warehouse import Warehouse
config = load_config(environ={})
start = time.perf_counter()
if mode == "bare":
    con = duckdb.connect(db_file)
    rows = con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}", [data_file]).fetchone()[0]
    con.close()
else:
    sources, problems = expand_paths([data_file])
    assert not problems, problems
    warehouse = Warehouse(Path(db_file), memory_limit=config.get("warehouse.memory_limit"),
                          threads=config.get("warehouse.threads"))
    with warehouse.write("benchmark") as session:
        [result] = load_billing(config, session, sources, LoadOptions(synthetic=True))
    assert result.status == "loaded", result.error
    rows = result.rows
seconds = time.perf_counter() - start
status = Path("/proc/self/status")
if status.exists():  # VmHWM: this process image's peak; ru_maxrss would include the parent's peak before exec
    [peak_kb] = [int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
else:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": peak_kb / 1024}))
"""


def measure(mode: str, data_file: Path, reader: str, work: Path) -> dict:
    db_file = work / f"{mode}-{data_file.stem}.duckdb"
    for stale in work.glob(f"{db_file.name}*"):
        stale.unlink()
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), mode, str(data_file), str(db_file), reader],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{mode} load of {data_file.name} failed (exit {out.returncode}):\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per format (default 5,000,000)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed afterwards)")
    args = parser.parse_args()

    from etl.demo.generator import write_demo_exports

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        results = []
        for label, (provider, reader, _, _) in FORMATS.items():
            started = time.perf_counter()
            [data_file] = write_demo_exports(work / "exports", rows=args.rows, providers=(provider,),
                                             monthly_files=False)
            size_mb = data_file.stat().st_size / 2**20
            print(f"{label}: generated {data_file.name} ({size_mb:,.0f} MiB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            bare = measure("bare", data_file, reader, work)
            full = measure("full", data_file, reader, work)
            results.append((label, size_mb, bare, full))
            data_file.unlink()

    print()
    header = (f"{'format':<22}{'rows':>11}{'MiB':>7}{'bare s':>9}{'bare rows/s':>13}{'bare peak MiB':>15}"
              f"{'full s':>9}{'full rows/s':>13}{'full peak MiB':>15}{'ratio':>7}")
    print(header)
    print("-" * len(header))
    figures = []
    for label, size_mb, bare, full in results:
        ratio = full["seconds"] / bare["seconds"]
        print(f"{label:<22}{full['rows']:>11,}{size_mb:>7,.0f}{bare['seconds']:>9.1f}"
              f"{bare['rows'] / bare['seconds']:>13,.0f}{bare['peak_mib']:>15,.0f}{full['seconds']:>9.1f}"
              f"{full['rows'] / full['seconds']:>13,.0f}{full['peak_mib']:>15,.0f}{ratio:>7.2f}")
        _, _, short, limit = FORMATS[label]
        figures += [Figure(f"{short} full load / bare read, {_rows(args.rows)} rows", ratio, "x", limit),
                    Figure(f"peak memory, full load, {short}", full["peak_mib"], "MiB", TARGET_PEAK_MIB),
                    Figure(f"{short} full load", full["rows"] / full["seconds"], "rows/s")]
    print()
    return record("ingest", figures)


def _rows(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"


if __name__ == "__main__":
    sys.exit(main())
