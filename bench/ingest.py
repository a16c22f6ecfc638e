"""Ingest benchmark: the full normalised load of big generated exports next to DuckDB's bare read of the same data.

For each format (Azure EA CSV, Google Cloud newline-delimited JSON, AWS CUR 2.0 Parquet) the demo generator
writes one file of ``--rows`` rows. Each measurement runs in its own process, which reports its wall time, its CPU
time (every thread) and its peak resident memory (``VmHWM`` on Linux, ``ru_maxrss`` elsewhere):

* bare: ``CREATE TABLE t AS SELECT <the columns the load reads> FROM read_…(file)`` into a fresh DuckDB file, on a
  connection with the writer's settings (``warehouse.memory_limit``, ``warehouse.threads``, the storage version)
  and the load's ``preserve_insertion_order`` for that kind of file: the best plain read of what the load reads.
  A load reads only the columns its adapter maps (42 of a CUR 2.0 file's 126, 21 keys of a Google record given
  as the reader's schema), so ``SELECT *`` would time work the load does not do: at 1,000,000 rows the
  ``SELECT *`` of the CUR Parquet file took longer than the whole load, which no load can honestly beat;
* full: ``etl.billing`` loading the same file into a fresh warehouse through the real write path
  (copy-on-write, parse checks, FOCUS normalisation, replace units, load_log, daily rollup, checkpoint, publish),
  with the configured ``warehouse.*`` settings (their defaults: ``load_config`` is given no environment), and the
  time of each phase.

Each format is measured ``--repeat`` times as a pair (bare, then full, back to back), and the medians are reported:
the ratio is the median of the pairs' ratios, so that a neighbour's load hits both sides of a pair alike.

Targets (issue 12), recorded with ``bench/targets.py``: the full load within 1.5x the bare read's time for the CSV
and the JSON file and 1.3x for the Parquet file, each full load's peak memory under 1 GiB. Imports are out of the
timing: the clock starts in the child after them.

    .venv/bin/python bench/ingest.py                            # 5,000,000 rows per format, 3 pairs
    .venv/bin/python bench/ingest.py --rows 200000 --repeat 1   # quick run
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402

# label: (demo provider, the bare read's table function with ? for the file and {options} for the load's own reader
# options, short name in the figures, target of full / bare). An EA export writes dates as M/D/YYYY in date order,
# so DuckDB's sniffer, which samples the first 20,480 rows, sees only 1-3 January at 5,000,000 rows, guesses
# D/M/YYYY and fails at 1/13/2024: the bare read is told the date format, nothing else.
FORMATS = {
    "Azure EA CSV": ("Microsoft", "read_csv(?, dateformat = '%m/%d/%Y'{options})", "CSV", 1.5),
    "Google Cloud NDJSON": ("Google Cloud", "read_json(?{options})", "NDJSON", 1.5),
    "AWS CUR 2.0 Parquet": ("AWS", "read_parquet(?{options})", "Parquet", 1.3),
}
TARGET_PEAK_MIB = 1024
# The phases of a full load, in order (seconds; "other" is the rest of the write session: migrations, the
# unchanged-content check, load_log; "publish" includes the checkpoint).
PHASES = ("copy", "insert", "lines", "settle", "rollup", "other", "publish")

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
mode, data_file, db_file, kind, select = sys.argv[2:7]
import duckdb  # imports before the clock starts: the load is timed, not Python's start-up
from etl.billing import ingest, loader, rollup
from etl.billing.base import LoadOptions
from etl.billing.sources import expand_paths
from etl.config import load_config
from etl.pipelines import load_billing
from etl.warehouse import STORAGE_VERSION, Warehouse
config = load_config(environ={})
phases = {}

def timed(module, name, phase):  # the load's phases, measured around the loader's own steps
    step = getattr(module, name)
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - start
    setattr(module, name, run)

start, cpu = time.perf_counter(), time.process_time()
if mode == "bare":
    settings = {"memory_limit": config.get("warehouse.memory_limit"), "storage_compatibility_version": STORAGE_VERSION}
    if config.get("warehouse.threads"):
        settings["threads"] = config.get("warehouse.threads")
    con = duckdb.connect(db_file, config=settings)
    con.execute(f"SET preserve_insertion_order = {str(ingest.keeps_order(kind)).lower()}")
    rows = con.execute(f"CREATE TABLE t AS {select}", [data_file]).fetchone()[0]
    con.close()
else:
    for module, name, phase in ((ingest, "insert", "insert"), (ingest, "number_lines", "lines"),
                                (loader, "_settle", "settle"), (rollup, "refresh", "rollup")):
        timed(module, name, phase)
    sources, problems = expand_paths([data_file])
    assert not problems, problems
    warehouse = Warehouse(Path(db_file), memory_limit=config.get("warehouse.memory_limit"),
                          threads=config.get("warehouse.threads"))
    with warehouse.write("benchmark") as session:
        [result] = load_billing(config, session, sources, LoadOptions(synthetic=True))
    assert result.status == "loaded", result.error
    rows = result.rows
    phases["copy"] = session.timings["copy"]
    phases["other"] = session.timings["work"] - sum(phases[p] for p in ("insert", "lines", "settle", "rollup"))
    phases["publish"] = session.timings["checkpoint"] + session.timings["publish"]
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
status = Path("/proc/self/status")
if status.exists():  # VmHWM: this process image's peak; ru_maxrss would include the parent's peak before exec
    [peak_kb] = [int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
else:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mib": peak_kb / 1024, "phases": phases}))
"""


def bare_select(data_file: Path, reader: str) -> tuple[str, str]:
    """The bare read's SELECT (the columns the full load reads from ``data_file``, read with the load's reader
    options) and the file's kind."""
    from etl.billing import registry
    from etl.billing.base import LoadOptions, quote_ident
    from etl.billing.sources import expand_paths, read_header

    [source], _ = expand_paths([str(data_file)])
    header = read_header(source)
    adapter = registry.choose(header.columns, source.kind, LoadOptions())
    plan = adapter.plan(header, LoadOptions(), source)
    columns = plan.reader_columns or header.columns
    original = dict(zip(adapter.column_names(columns), columns, strict=True))
    read = dict.fromkeys(quote_ident(original[found]) for found, _ in plan.fields.values() if found is not None)
    options = f", {plan.read_options}" if plan.read_options else ""
    return f"SELECT {', '.join(read)} FROM {reader.format(options=options)}", source.kind


def measure(mode: str, data_file: Path, kind: str, select: str, work: Path) -> dict:
    db_file = work / f"{mode}-{data_file.stem}.duckdb"
    for stale in work.glob(f"{db_file.name}*"):
        if stale.is_file():
            stale.unlink()
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), mode, str(data_file), str(db_file), kind, select],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{mode} load of {data_file.name} failed (exit {out.returncode}):\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def paired(data_file: Path, kind: str, select: str, work: Path, repeat: int) -> dict:
    """``repeat`` pairs of a bare read and a full load of the file; their medians (peaks: the highest)."""
    pairs = [(measure("bare", data_file, kind, select, work), measure("full", data_file, kind, select, work))
             for _ in range(repeat)]
    median = statistics.median
    return {
        "rows": pairs[0][1]["rows"],
        "bare_s": median(b["seconds"] for b, _ in pairs), "full_s": median(f["seconds"] for _, f in pairs),
        "ratio": median(f["seconds"] / b["seconds"] for b, f in pairs),
        "cpu_ratio": median(f["cpu"] / b["cpu"] for b, f in pairs),
        "bare_peak": max(b["peak_mib"] for b, _ in pairs), "full_peak": max(f["peak_mib"] for _, f in pairs),
        "phases": {p: median(f["phases"][p] for _, f in pairs) for p in PHASES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per format (default 5,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs per format (default 3; medians)")
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
            select, kind = bare_select(data_file, reader)
            results.append((label, size_mb, paired(data_file, kind, select, work, args.repeat)))
            data_file.unlink()

    print(f"\nmedians of {args.repeat} pair(s) per format")
    header = (f"{'format':<22}{'rows':>11}{'MiB':>7}{'bare s':>9}{'bare peak MiB':>15}{'full s':>9}"
              f"{'full rows/s':>13}{'full peak MiB':>15}{'ratio':>7}{'CPU ratio':>11}")
    print(header)
    print("-" * len(header))
    for label, size_mb, r in results:
        print(f"{label:<22}{r['rows']:>11,}{size_mb:>7,.0f}{r['bare_s']:>9.1f}{r['bare_peak']:>15,.0f}"
              f"{r['full_s']:>9.1f}{r['rows'] / r['full_s']:>13,.0f}{r['full_peak']:>15,.0f}{r['ratio']:>7.2f}"
              f"{r['cpu_ratio']:>11.2f}")
    print("\nfull load by phase, seconds (medians)")
    print(f"{'format':<22}" + "".join(f"{p:>9}" for p in PHASES))
    for label, _, r in results:
        print(f"{label:<22}" + "".join(f"{r['phases'][p]:>9.2f}" for p in PHASES))
    print()
    figures = []
    for label, _, r in results:
        _, _, short, limit = FORMATS[label]
        figures += [Figure(f"{short} full load / bare read, {_rows(args.rows)} rows", r["ratio"], "x", limit),
                    Figure(f"peak memory, full load, {short}", r["full_peak"], "MiB", TARGET_PEAK_MIB),
                    Figure(f"{short} full load", r["rows"] / r["full_s"], "rows/s")]
    return record("ingest", figures)


def _rows(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"


if __name__ == "__main__":
    sys.exit(main())
