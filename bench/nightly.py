"""Nightly load cost: how a small load's time grows with the warehouse, and the demo generator's memory.

1. Warehouses of 0.1M, 1M, 5M and 20M SYNTHETIC cost rows, each built once in ``--dir`` (default
   ``data/bench-nightly/<rows>/``): the streaming demo generator's AWS CUR 2.0 export (one Parquet file from
   2024-01-01 to END: the quickest format to generate and load; what a small load costs depends on the size of
   the warehouse file, not on its providers) loaded through the normal loader. ``built.json`` records the build;
   the export is deleted once loaded. The 20M build takes about 5 minutes on two cores.
2. On a scratch copy of each (``nightly.duckdb``), ``--nights`` nightly loads: an OCI incremental cost report of
   1,000 lines for the next day (:func:`etl.demo.generator.write_day`) through the normal write path, with the
   published file evicted from the page cache (``posix_fadvise(DONTNEED)``: a cron run finding a file nobody
   read for hours), then as many with it cached (a dashboard reading it all day). :attr:`WriteSession.timings` splits
   each into copy (of the published file to the work file), load (migrations and the load itself), checkpoint and
   publish (fsync and rename); the medians are reported.
3. At the largest size, copy strategies, each followed by an fsync: ``shutil.copyfile`` (``sendfile``),
   ``os.copy_file_range`` and the writer's :func:`etl.warehouse.clone_or_copy` (a reflink where the filesystem
   offers one, else ``shutil.copyfile``).
4. The generation of 10M rows (one file per provider, as ``bench/dashboard.py`` builds its warehouse) in a child
   process: its time and peak resident memory (``VmHWM``).

Targets: generation peak under 1,536 MiB; at 20M rows, the cold copy under 1 s and the whole nightly load under
3 s (it was 1.6 s on an empty warehouse before this benchmark existed).

    .venv/bin/python bench/nightly.py                        # everything (builds once, then reuses)
    .venv/bin/python bench/nightly.py --sizes 100000 1000000 --generate-rows 1000000   # quick run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402

SIZES = (100_000, 1_000_000, 5_000_000, 20_000_000)
END = date(2026, 11, 30)  # fixed, so a cached build stays the same data
BUILD = {"providers": ["AWS"], "monthly_files": False}  # how the warehouses are built (a cached one must match)
NIGHTLY_ROWS = 1_000
GENERATE_ROWS = 10_000_000
TARGET_GENERATE_MIB = 1536
TARGET_COPY_S = 1.0
TARGET_NIGHTLY_S = 3.0
STEPS = ("copy", "work", "checkpoint", "publish")

CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from etl.demo.generator import write_demo_exports
with tempfile.TemporaryDirectory(dir=sys.argv[3]) as out:
    start = time.perf_counter()
    files = write_demo_exports(Path(out), rows=int(sys.argv[2]), monthly_files=False)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in files)
[peak_kb] = [int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
             if line.startswith("VmHWM:")]
print(json.dumps({"seconds": seconds, "peak_mib": peak_kb / 1024, "bytes": size}))
"""


def build(folder: Path, rows: int) -> Path:
    """The warehouse of about ``rows`` cost rows in ``folder``, built unless a previous run built it."""
    db, marker = folder / "warehouse.duckdb", folder / "built.json"
    facts = json.loads(marker.read_text()) if marker.exists() and db.exists() else {}
    if (facts.get("rows"), facts.get("build")) == (rows, BUILD):
        return db
    from etl.billing.base import LoadOptions
    from etl.billing.sources import expand_paths
    from etl.config import load_config
    from etl.demo.generator import write_demo_exports
    from etl.pipelines import load_billing
    from etl.warehouse import Warehouse

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("warehouse.duckdb*"):
        old.unlink()
    started = time.perf_counter()
    exports = folder / "exports"
    files = write_demo_exports(exports, rows=rows, end=END, **BUILD)
    generated = time.perf_counter() - started
    sources, problems = expand_paths([str(f) for f in files])
    assert not problems, problems
    with Warehouse(db).write("benchmark build") as session:
        results = load_billing(load_config(environ={}), session, sources, LoadOptions(synthetic=True))
        cost_rows = session.con.execute("SELECT count(*) FROM cost_line").fetchone()[0]
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    shutil.rmtree(exports)
    facts = {"rows": rows, "build": BUILD, "cost_rows": cost_rows, "files": len(files), "generate_s": generated,
             "load_s": time.perf_counter() - started - generated, "db_mib": db.stat().st_size / 2**20}
    marker.write_text(json.dumps(facts, indent=2))
    print(f"built {db}: {cost_rows:,} cost rows from {len(files)} files, {facts['db_mib']:,.0f} MiB "
          f"(generated in {generated:.0f} s, loaded in {facts['load_s']:.0f} s)", flush=True)
    return db


def evict(path: Path) -> None:
    """Drop ``path``'s clean pages from the page cache (the next read comes from the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def nightly_loads(db: Path, nights: int, cold: bool, first_day: date) -> tuple[list[dict[str, float]], date]:
    """``nights`` nightly loads of a new day's file each into ``db``: each load's timings, and the next day."""
    from etl.billing.base import LoadOptions
    from etl.billing.sources import expand_paths
    from etl.config import load_config
    from etl.demo.generator import write_day
    from etl.pipelines import load_billing
    from etl.warehouse import Warehouse

    config, warehouse, timings, day = load_config(environ={}), Warehouse(db), [], first_day
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(nights):
            sources, problems = expand_paths([str(write_day(Path(tmp), day, NIGHTLY_ROWS))])
            assert not problems, problems
            if cold:
                evict(db)
            else:
                with open(db, "rb") as handle:  # the whole file in the page cache, as a reader keeps it
                    while handle.read(1 << 24):
                        pass
            with warehouse.write("nightly load") as session:
                [result] = load_billing(config, session, sources, LoadOptions(synthetic=True))
            assert result.status == "loaded", result.error
            timings.append(dict(session.timings))
            day += timedelta(days=1)
    return timings, day


def median_steps(timings: list[dict[str, float]]) -> dict[str, float]:
    medians = {step: statistics.median(t[step] for t in timings) for step in STEPS}
    medians["total"] = statistics.median(sum(t.values()) for t in timings)
    return medians


def copy_strategies(source: Path, folder: Path) -> dict[str, str]:
    """Copying ``source`` (out of the page cache) and fsyncing the copy, per strategy: seconds, and for the writer's
    own :func:`clone_or_copy` which one the filesystem gave."""
    from etl.warehouse import clone_or_copy

    def copyfile(src: Path, dst: Path) -> str:
        shutil.copyfile(src, dst)
        return ""

    def copy_file_range(src: Path, dst: Path) -> str:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            while os.copy_file_range(fin.fileno(), fout.fileno(), 1 << 30):
                pass
        return ""

    strategies: dict[str, Callable[[Path, Path], str]] = {
        "shutil.copyfile (sendfile)": copyfile,
        "os.copy_file_range": copy_file_range,
        "clone_or_copy (the writer's)": clone_or_copy,
    }
    results: dict[str, str] = {}
    target = folder / "copy-strategy.duckdb"
    for name, copy in strategies.items():
        evict(source)
        started = time.perf_counter()
        try:
            how = copy(source, target)
            fd = os.open(target, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            results[name] = f"{time.perf_counter() - started:.3f} s" + (f" ({how})" if how else "")
        finally:
            target.unlink(missing_ok=True)
    return results


def generate(rows: int, folder: Path) -> dict[str, float]:
    """The demo generator writing ``rows`` rows in a child process: seconds, peak MiB and bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(rows), str(folder)], capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(f"generating {rows:,} rows failed (exit {out.returncode}):\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def label(rows: int) -> str:
    return f"{rows / 1e6:g}M"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="warehouse sizes in cost rows")
    parser.add_argument("--nights", type=int, default=3, help="nightly loads per size and cache state (median)")
    parser.add_argument("--generate-rows", type=int, default=GENERATE_ROWS, help="rows of the generation run")
    parser.add_argument("--dir", type=Path, default=REPO / "data" / "bench-nightly")
    args = parser.parse_args()

    rows_out: list[tuple[str, str, dict[str, float], int]] = []
    figures: list[Figure] = []
    largest = max(args.sizes)
    for size in sorted(args.sizes):
        folder = args.dir / str(size)
        built = build(folder, size)
        scratch = folder / "nightly.duckdb"
        shutil.copyfile(built, scratch)
        try:
            day = END + timedelta(days=1)
            for cache in ("cold", "hot"):
                timings, day = nightly_loads(scratch, args.nights, cache == "cold", day)
                rows_out.append((label(size), cache, median_steps(timings), scratch.stat().st_size))
            cold, hot = rows_out[-2][2], rows_out[-1][2]
            at_largest = size == largest == SIZES[-1]
            figures += [
                Figure(f"copy of the published file at {label(size)} rows, cold cache", cold["copy"], "s",
                       TARGET_COPY_S if at_largest else None),
                Figure(f"nightly 1,000-row load at {label(size)} rows, cold cache", cold["total"], "s",
                       TARGET_NIGHTLY_S if at_largest else None),
                Figure(f"nightly 1,000-row load at {label(size)} rows, cached", hot["total"], "s"),
            ]
            if size == largest:
                strategies = copy_strategies(scratch, folder)
        finally:
            for leftover in folder.glob("nightly.duckdb*"):
                leftover.unlink()

    print(f"\n{'warehouse':<10}{'cache':<7}{'file MiB':>9}" + "".join(f"{s:>12}" for s in (*STEPS, "total")))
    for size_label, cache, medians, size_bytes in rows_out:
        print(f"{size_label:<10}{cache:<7}{size_bytes / 2**20:>9,.0f}"
              + "".join(f"{medians[s]:>12.3f}" for s in (*STEPS, "total")))
    print(f"\ncopy strategies at {label(largest)} rows (cold source, copy + fsync):")
    for name, result in strategies.items():
        print(f"  {name:<30}{result}")
    print(flush=True)

    generation = generate(args.generate_rows, args.dir / "generation")
    print(f"generated {args.generate_rows:,} rows ({generation['bytes'] / 2**30:,.1f} GiB) in "
          f"{generation['seconds']:.0f} s, peak {generation['peak_mib']:,.0f} MiB\n", flush=True)
    figures += [Figure(f"demo generation of {label(args.generate_rows)} rows: peak memory", generation["peak_mib"],
                       "MiB", TARGET_GENERATE_MIB),
                Figure(f"demo generation of {label(args.generate_rows)} rows: time", generation["seconds"], "s")]
    with contextlib.suppress(OSError):
        (args.dir / "generation").rmdir()
    return record("nightly", figures)


if __name__ == "__main__":
    sys.exit(main())
