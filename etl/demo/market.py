"""SYNTHETIC daily prices and EUR/USD rates for the demo, so the dashboard works offline.

The prices behave like a market: a factor structure on each listing's real exchange sessions, from a year before the
demo's billing data (an estimation window for the event studies) to the demo's end date. The
benchmarks come first (SPY with a drift of about 10 % a year and 17 % volatility; ^N225 on Tokyo's sessions with
its own; QQQ follows SPY with a higher beta), then each stock's daily return is α + β × its benchmark's return +
its own noise (β and idiosyncratic volatility in the ranges real large caps show), so the demo's event studies
fit market models a real study would (β near the configured one, R² well above zero). A few made-up reactions on
the days of the catalog's announcements give them something to find. EUR/USD is a slow mean-reverting walk in
its real range. Everything comes from one seeded generator: the same seed gives the same frames.

They are stored through the normal price and FX store functions with ``load_log.format = 'synthetic'`` and
sources named ``demo:…``. Tickers and currencies that have real prices or rates (fetched by the demo itself when
Yahoo answers) get none, and the first real ``prices fetch`` / ``prices import`` / ``fx fetch`` removes every
synthetic row of its kind (``etl/demo/isolation.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from etl.loadlog import LoadRecord
from etl.market import fx
from etl.market.calendars import listing, sessions
from etl.market.prices import PriceBatch
from etl.market.prices import store as store_prices
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

FIRST = date(2023, 1, 3)  # a year before the billing data: the event studies' estimation window
SYNTHETIC = "synthetic"
SESSIONS_PER_YEAR = 252


@dataclass(frozen=True)
class Security:
    """How one synthetic price series moves. Its daily simple return is ``drift / 252 + beta × (the factor's
    return that session) + N(0, vol)``; a benchmark of its own (``factor`` None) has ``drift / 252 + N(0, vol)``."""

    first_price: float
    vol: float  # daily volatility of its own noise (of its whole return for a benchmark of its own)
    factor: str | None = None  # the benchmark it follows, generated before it
    beta: float = 0.0
    drift: float = 0.0  # expected simple return a year beyond beta × factor (α), or of a benchmark of its own
    listed: date | None = None  # first session, for a listing younger than FIRST


def _annual(vol: float) -> float:
    """A daily volatility for an annual one."""
    return vol / math.sqrt(SESSIONS_PER_YEAR)


# Benchmarks first: a security's factor must come before it. Levels are those of early January 2023.
SECURITIES: dict[str, Security] = {
    "SPY": Security(380.0, _annual(0.17), drift=0.10),
    "^N225": Security(26000.0, _annual(0.19), drift=0.08),
    "QQQ": Security(270.0, 0.005, "SPY", 1.2, drift=0.02),
    "GOOGL": Security(90.0, 0.015, "SPY", 1.1, drift=0.05),
    "MSFT": Security(240.0, 0.012, "SPY", 1.0, drift=0.04),
    "AMZN": Security(85.0, 0.016, "SPY", 1.2, drift=0.03),
    "ORCL": Security(80.0, 0.017, "SPY", 1.1, drift=0.06),
    "NVDA": Security(15.0, 0.022, "SPY", 1.8, drift=0.20),
    "CRWV": Security(40.0, 0.03, "SPY", 2.0, listed=date(2025, 3, 28)),
    "9984.T": Security(5800.0, 0.018, "^N225", 1.3, drift=0.03),
}
# Made-up abnormal moves on announcement days (fractions), in the spirit of the real ones.
REACTIONS: dict[tuple[date, str], float] = {
    (date(2025, 1, 22), "ORCL"): 0.065, (date(2025, 1, 22), "MSFT"): 0.035, (date(2025, 1, 22), "9984.T"): 0.08,
    (date(2025, 6, 10), "GOOGL"): 0.015, (date(2025, 6, 10), "MSFT"): -0.006,
    (date(2025, 9, 10), "ORCL"): 0.30, (date(2025, 10, 28), "MSFT"): 0.02, (date(2025, 11, 3), "AMZN"): 0.04,
    (date(2025, 3, 31), "CRWV"): -0.07,
}


@dataclass(frozen=True)
class RatePath:
    """A USD rate whose logarithm reverts to ``centre``'s at ``reversion`` a day with daily volatility
    ``vol`` (an Ornstein-Uhlenbeck walk: it wanders by about vol / √(2·reversion) around the centre)."""

    first: float
    centre: float
    vol: float
    reversion: float


# EUR/USD: 1.07 in January 2023, wandering about 2.5 % around 1.11 (its 2023-2025 range was 1.02-1.18).
FX_PAIRS: dict[str, RatePath] = {"EUR": RatePath(1.07, 1.11, 0.0035, 0.01)}


def store_synthetic_market(session: WriteSession, seed: int, reporting_currency: str, fx_max_age_days: int,
                           end: date, skip: Collection[str] = ()) -> list[LoadRecord]:
    """Store synthetic prices and FX rates through ``end`` in the write session, except for the tickers and
    currencies in ``skip`` (those the warehouse holds real market data of)."""
    now = datetime.now(UTC)
    rng = np.random.default_rng(seed)
    results = []
    for ticker, frame in synthetic_prices(rng, end).items():
        if ticker in skip:
            continue
        result = LoadRecord(kind="prices", source=f"demo:{ticker}", status="loaded", format=SYNTHETIC,
                            subject=ticker, synthetic=True)
        results.append(store_prices(session, PriceBatch(result, listing(ticker), frame,
                                                        notes=["SYNTHETIC demo prices"]), now))
    for currency, frame in synthetic_rates(rng, end).items():
        if currency in skip:
            continue
        result = LoadRecord(kind="fx", source=f"demo:{currency}USD=X", status="loaded", format=SYNTHETIC,
                            subject=currency, synthetic=True)
        results.append(fx.store(session, fx.FxBatch(result, currency, frame, notes=["SYNTHETIC demo rates"],
                                                    rate_source=f"demo:{SYNTHETIC}"), now))
    fx.record_reporting_settings(session, reporting_currency, fx_max_age_days, now)
    return results


def synthetic_returns(rng: np.random.Generator, end: date) -> dict[str, pd.Series]:
    """Each security's daily simple returns on its listing's sessions (the factor structure of SECURITIES plus
    REACTIONS); a younger listing starts with a zero return on its first session."""
    returns: dict[str, pd.Series] = {}
    for ticker, security in SECURITIES.items():
        days = sessions(listing(ticker).calendar, FIRST, end)
        own = pd.Series(security.drift / SESSIONS_PER_YEAR + rng.normal(0.0, security.vol, len(days)), index=days)
        if security.factor:
            # the benchmark's return of the same session (none where its exchange was closed)
            own += security.beta * returns[security.factor].reindex(days, fill_value=0.0)
        for (day, name), move in REACTIONS.items():
            if name == ticker and pd.Timestamp(day) in own.index:
                own[pd.Timestamp(day)] += move
        if security.listed:
            own = own[own.index >= pd.Timestamp(security.listed)]
            own.iloc[0] = 0.0
        returns[ticker] = own
    return returns


def synthetic_prices(rng: np.random.Generator, end: date) -> dict[str, pd.DataFrame]:
    """One frame per ticker in the layout the price store takes (date, open, high, low, close, adj_close…)."""
    frames = {}
    for ticker, returns in synthetic_returns(rng, end).items():
        close = SECURITIES[ticker].first_price * (1 + returns).cumprod()
        spread = np.abs(rng.normal(0.0, 0.006, len(close)))
        frames[ticker] = pd.DataFrame({
            "date": close.index, "open": (close * (1 - spread / 2)).round(4).to_numpy(),
            "high": (close * (1 + spread)).round(4).to_numpy(), "low": (close * (1 - spread)).round(4).to_numpy(),
            "close": close.round(4).to_numpy(), "adj_close": close.round(4).to_numpy(),
            "volume": rng.integers(5_000_000, 50_000_000, len(close)), "dividends": 0.0, "stock_splits": 0.0,
        })
    log.info("synthetic prices: %s tickers, %s to %s", len(frames), FIRST, end)
    return frames


def synthetic_rates(rng: np.random.Generator, end: date) -> dict[str, pd.DataFrame]:
    """Daily USD rates on weekdays through ``end``, each a mean-reverting walk (RatePath) from a plausible start."""
    days = pd.bdate_range(FIRST, end)
    frames = {}
    for currency, path in FX_PAIRS.items():
        centre, shocks = math.log(path.centre), rng.normal(0.0, path.vol, len(days))
        level = np.empty(len(days))
        level[0] = math.log(path.first)
        for i in range(1, len(days)):
            level[i] = level[i - 1] + path.reversion * (centre - level[i - 1]) + shocks[i]
        frames[currency] = pd.DataFrame({"date": days, "rate": np.exp(level).round(6)})
    return frames
