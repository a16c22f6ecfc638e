"""The demo's one bounded attempt at real market data: Yahoo's prices and FX rates, or nothing, within seconds.

``python -m etl demo`` (and so ``make run``) asks Yahoo for the configured tickers and the demo's currencies with
the same download jobs as ``python -m etl run`` (``pipelines.fetch_prices`` / ``plan_fx`` / ``fetch_fx``), before
the writer lock is taken, but quickly: each request times out after ``demo.market_timeout_s`` seconds, rate limits
are not waited out, and the whole attempt runs in a daemon thread that is given up after that many seconds, so an
offline machine starts the dashboard at once on synthetic prices. What came is stored as real market data (not
synthetic); the demo generates synthetic prices and rates only for what the warehouse then has no real data of.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from etl import pipelines
from etl.config import Config
from etl.demo.market import FX_PAIRS
from etl.market.fx import FxFetch
from etl.market.prices import PriceFetch

log = logging.getLogger(__name__)


@dataclass
class RealMarket:
    """What Yahoo answered within the time limit: the downloads that finished, and why the others did not."""

    timeout_s: float
    prices: PriceFetch | None = None
    fx_plan: pipelines.FxPlan | None = None
    fx: FxFetch | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def tickers(self) -> list[str]:
        return [batch.ticker for batch in self.prices.batches] if self.prices else []

    @property
    def currencies(self) -> list[str]:
        return [batch.currency for batch in self.fx.batches] if self.fx else []


def fetch_real_market(config: Config, *, now: datetime) -> RealMarket:
    """Yahoo's prices of the configured tickers and USD rates of the configured and demo currencies, within
    ``demo.market_timeout_s`` seconds in all; writes nothing and never raises for a download that failed."""
    timeout = float(config.get("demo.market_timeout_s"))
    got = RealMarket(timeout)
    quick = pipelines.Quick(timeout)

    def attempt() -> None:
        try:
            got.prices = pipelines.fetch_prices(config, now=now, quick=quick)
            if time.monotonic() > deadline:  # given up meanwhile: ask Yahoo nothing more
                return
            plan = pipelines.plan_fx(config)  # the demo's EUR too: its Azure exports are not loaded yet
            got.fx_plan = replace(plan, currencies=list(dict.fromkeys([*plan.currencies, *FX_PAIRS])))
            got.fx = pipelines.fetch_fx(config, got.fx_plan, now=now, quick=quick)
        except Exception as exc:  # any failure leaves the demo on synthetic prices, said in one line
            log.warning("demo: real market data not fetched: %s: %s", type(exc).__name__, exc)
            got.problems.append(f"{type(exc).__name__}: {exc}")

    started = time.monotonic()
    deadline = started + timeout
    worker = threading.Thread(target=attempt, name="demo-yahoo", daemon=True)  # abandoned when it overruns
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        got.problems.append(f"Yahoo did not answer in {timeout:g} s")
        finished = RealMarket(timeout, got.prices, problems=[*got.problems])  # a late FX answer is not used
        log.warning("demo: %s; using what came (%d tickers)", got.problems[-1], len(finished.tickers))
        return finished
    log.info("demo: asked Yahoo for real market data in %.1f s: %d tickers, %d FX pairs came", time.monotonic()
             - started, len(got.tickers), len(got.currencies))
    return got
