"""Benchmark figures against their targets, collected across scripts into the one table `make bench` prints.

Each benchmark script measures, then calls :func:`record` with its :class:`Figure` list: that prints the script's
own table, writes the figures to ``<results dir>/<bench>.json`` and returns the exit code (1 when a target is
missed). ``python bench/targets.py`` (the last step of `make bench`) prints every recorded figure in one table and
exits 1 when any target is missed or a script recorded nothing since the run started.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(os.environ.get("SPENDSCOPE_BENCH_RESULTS", REPO / "data" / "bench-results"))


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``limit`` is the target; ``higher_is_better`` flips the comparison (throughputs)."""

    name: str  # e.g. "CSV full load / bare read, 5M rows"
    value: float
    unit: str  # "x", "ms", "s", "MiB", "rows/s"
    limit: float | None = None  # None: reported, no target
    higher_is_better: bool = False

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return self.value >= self.limit if self.higher_is_better else self.value < self.limit

    def target_text(self) -> str:
        if self.limit is None:
            return ""
        return f"{'>=' if self.higher_is_better else '<'} {_number(self.limit)} {self.unit}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def table(figures: list[tuple[str, Figure]]) -> str:
    """Rows of (bench, figure) as an aligned text table with a verdict column."""
    rows = [("bench", "figure", "value", "target", "")]
    for bench, f in figures:
        verdict = {True: "met", False: "MISSED", None: ""}[f.met]
        rows.append((bench, f.name, f"{_number(f.value)} {f.unit}", f.target_text(), verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) if i < 4 else c for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def record(bench: str, figures: list[Figure]) -> int:
    """Print ``bench``'s figures, store them for the summary and return 0, or 1 when a target is missed."""
    print(table([(bench, f) for f in figures]), flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{bench}.json").write_text(json.dumps([asdict(f) for f in figures], indent=1))
    return 1 if any(f.met is False for f in figures) else 0


def summary(since: float, expected: list[str]) -> int:
    """Print every figure recorded after ``since`` (epoch seconds) in one table; 1 if one is missed or missing."""
    figures: list[tuple[str, Figure]] = []
    missing = []
    for bench in expected:
        path = RESULTS_DIR / f"{bench}.json"
        if not path.exists() or path.stat().st_mtime < since:
            missing.append(bench)
            continue
        figures += [(bench, Figure(**f)) for f in json.loads(path.read_text())]
    print(table(figures))
    for bench in missing:
        print(f"{bench}: no figures recorded by this run (the script failed before measuring)", file=sys.stderr)
    missed = [f"{b}: {f.name}" for b, f in figures if f.met is False]
    print(f"\n{len(figures)} figures, {sum(f.met is True for _, f in figures)} targets met, {len(missed)} missed"
          + (f" ({'; '.join(missed)})" if missed else ""))
    return 1 if missed or missing else 0


if __name__ == "__main__":
    start = float(sys.argv[1])
    sys.exit(summary(start, sys.argv[2:]))
