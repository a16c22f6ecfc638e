"""Benchmark of warehouse-mode event studies: every catalog event x 8 tickers, on the real price fixtures.

Setup (not timed): a fresh warehouse in a temporary folder, the shared price files imported with
``python -m etl prices import`` and the event catalog loaded by ``init``. Timed:

* compute: :func:`etl.eventstudy.warehouse.compute_event_studies` on a read connection, every catalog event x
  AMZN, CRWV, GOOG, GOOGL, MSFT, NVDA, ORCL, QQQ against SPY (the benchmark itself is not a ticker),
  estimation [-250, -11], windows [0,0], [-1,+1], [0,+1], [-5,+5], every test (the 14 daily and 11 CAR/BHAR
  statistics of docs/eventstudy.md, always all computed): reading the prices,
  the calendars' sessions, returns, day 0, the engine, the result frames and the overlap flags. The figure
  is the best of ``--repeats`` runs after a first one (the setup has already built the exchange calendars).
* store: :func:`etl.eventstudy.store.store_study` writing those frames in one transaction (inside a write
  session; the copy and publish of the warehouse file are not included).

Target: compute under 2 s (``bench/targets.py`` prints it against the target; ``make bench`` collects it). Run from
the repository root: ``.venv/bin/python bench/eventstudy.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.targets import Figure, record  # noqa: E402 - after the path set-up, so the script runs from anywhere
from etl.cli import main as etl_main  # noqa: E402
from etl.config import load_config  # noqa: E402
from etl.events.store import read_events  # noqa: E402
from etl.eventstudy.settings import StudySettings  # noqa: E402
from etl.eventstudy.store import store_study  # noqa: E402
from etl.eventstudy.warehouse import compute_event_studies  # noqa: E402
from etl.warehouse import Warehouse, connect_readonly  # noqa: E402

MARKET = REPO.parent / "shared" / "fixtures" / "market" / "sungkyu-kim39-backtester39"
TICKERS = ("AMZN", "CRWV", "GOOG", "GOOGL", "MSFT", "NVDA", "ORCL", "QQQ")
TARGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--market", type=Path, default=MARKET, help="folder of the price fixture files")
    args = parser.parse_args()
    if not args.market.is_dir():
        print(f"price fixtures not found at {args.market}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        for command in (["prices", "import", str(args.market)], ["init"]):
            with contextlib.redirect_stdout(io.StringIO()):
                code = etl_main(["--db", str(db), "--log-level", "WARNING", *command])
            if code != 0:
                print(f"setup failed: {' '.join(command)}", file=sys.stderr)
                return 1
        settings = StudySettings.from_config(load_config(None, environ={}), tickers=TICKERS, benchmark="SPY")
        con = connect_readonly(db)
        try:
            events = read_events(con)
            start = time.perf_counter()
            tables = compute_event_studies(con, events, settings)
            first = time.perf_counter() - start
            timings = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                compute_event_studies(con, events, settings)
                timings.append(time.perf_counter() - start)
        finally:
            con.close()
        with Warehouse(db).write("benchmark") as session:
            start = time.perf_counter()
            store_study(session, tables, list(events["event_id"]), datetime.now(UTC))
            stored = time.perf_counter() - start
    status = tables.pairs["status"].value_counts()
    best = min(timings)
    print(f"{len(events)} events x {len(TICKERS)} tickers = {len(events) * len(TICKERS)} pairs "
          f"({status.get('computed', 0)} computed, {status.get('excluded', 0)} excluded by the engine, "
          f"{status.get('failed', 0)} failed), estimation [-250,-11], 4 windows, every test")
    print(f"compute: best {best:.3f} s of {args.repeats} (first run {first:.3f} s); "
          f"store: {stored:.3f} s ({len(tables.daily)} daily, {len(tables.results)} result, {len(tables.cross)} "
          f"cross rows)")
    return record("eventstudy", [Figure("compute, whole catalog x 8 tickers, every test", best, "s", TARGET_S)])


if __name__ == "__main__":
    sys.exit(main())
