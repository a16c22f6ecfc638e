"""Micro-benchmark of the event-study engine: 20 events x 8 firms, estimation [-250, -11], 4 windows.

Run from the repository root: ``python -m bench.eventstudy_engine [--repeats 5]``. Prints the best
wall time of the whole batch (every statistic, every window) and the time per event.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from etl.eventstudy.engine import run_event_study

EVENTS, FIRMS, SESSIONS = 20, 8, 800


def _data(seed: int = 42) -> tuple[pd.DataFrame, pd.Series, pd.DatetimeIndex]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2022-01-03", periods=SESSIONS)
    market = pd.Series(rng.normal(0.0004, 0.011, SESSIONS), index=index)
    returns = pd.DataFrame(
        {f"F{i}": 0.0002 + (0.6 + 0.1 * i) * market + rng.normal(0, 0.016, SESSIONS) for i in range(FIRMS)},
        index=index,
    )
    returns.iloc[rng.random(returns.shape) < 0.01] = np.nan  # scattered missing sessions
    days0 = index[rng.choice(np.arange(300, SESSIONS - 20), EVENTS, replace=False)]
    return returns, market, days0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    returns, market, days0 = _data()
    run_event_study(returns, market, days0[0])  # warm up imports and caches
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for day0 in days0:
            run_event_study(returns, market, day0)
        timings.append(time.perf_counter() - start)
    best = min(timings)
    print(f"{EVENTS} events x {FIRMS} firms, 4 windows: best {best * 1000:.0f} ms "
          f"({best / EVENTS * 1000:.1f} ms per event) over {args.repeats} repeats")  # fmt: skip


if __name__ == "__main__":
    main()
