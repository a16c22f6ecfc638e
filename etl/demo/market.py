"""SYNTHETIC daily prices and EUR/USD rates for the demo, so the dashboard works offline.

Prices follow a one-factor model on each listing's real exchange sessions, from a year before the demo's billing
data (an estimation window for the event studies) to the demo's end date: a common market return,
each ticker's beta to it plus its own noise, all from a seeded generator, with a few made-up reactions on the
days of the catalog's announcements so that the demo's event studies have something to find. They are stored
through the normal price and FX store functions with ``load_log.format = 'synthetic'`` and sources named
``demo:…``. Tickers and currencies that have real prices or rates (fetched by the demo itself when Yahoo answers)
get none, and the first real ``prices fetch`` / ``prices import`` / ``fx fetch`` removes every synthetic row of its
kind (``etl/demo/isolation.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
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

# ticker: (first price, beta to the market factor, daily idiosyncratic volatility, first session or None)
TICKERS: dict[str, tuple[float, float, float, date | None]] = {
    "SPY": (380.0, 1.0, 0.0, None),
    "QQQ": (270.0, 1.2, 0.004, None),
    "GOOGL": (90.0, 1.1, 0.014, None),
    "MSFT": (240.0, 1.0, 0.011, None),
    "AMZN": (85.0, 1.2, 0.015, None),
    "ORCL": (80.0, 0.9, 0.016, None),
    "NVDA": (15.0, 1.7, 0.025, None),
    "CRWV": (40.0, 1.9, 0.045, date(2025, 3, 28)),
    "^N225": (26000.0, 0.6, 0.008, None),
    "9984.T": (5800.0, 1.1, 0.02, None),
}
# Made-up abnormal moves on announcement days (fractions), in the spirit of the real ones.
REACTIONS: dict[tuple[date, str], float] = {
    (date(2025, 1, 22), "ORCL"): 0.065, (date(2025, 1, 22), "MSFT"): 0.035, (date(2025, 1, 22), "9984.T"): 0.08,
    (date(2025, 6, 10), "GOOGL"): 0.015, (date(2025, 6, 10), "MSFT"): -0.006,
    (date(2025, 9, 10), "ORCL"): 0.30, (date(2025, 10, 28), "MSFT"): 0.02, (date(2025, 11, 3), "AMZN"): 0.04,
    (date(2025, 3, 31), "CRWV"): -0.07,
}
FX_PAIRS = {"EUR": 1.08}  # currency: first USD rate


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


def synthetic_prices(rng: np.random.Generator, end: date) -> dict[str, pd.DataFrame]:
    """One frame per ticker in the layout the price store takes (date, open, high, low, close, adj_close…)."""
    frames = {}
    market_cache: dict[str, pd.Series] = {}
    for ticker, (first_price, beta, vol, listed) in TICKERS.items():
        mic = listing(ticker).calendar
        if mic not in market_cache:
            days = sessions(mic, FIRST, end)
            market_cache[mic] = pd.Series(rng.normal(0.0004, 0.01, len(days)), index=days)
        market = market_cache[mic]
        returns = beta * market + rng.normal(0.0, vol, len(market)) if vol else market.copy()
        for (day, name), move in REACTIONS.items():
            if name == ticker and pd.Timestamp(day) in returns.index:
                returns[pd.Timestamp(day)] += move
        if listed:
            returns = returns[returns.index >= pd.Timestamp(listed)]
            returns.iloc[0] = 0.0
        close = first_price * np.exp(np.log1p(returns).cumsum())
        spread = np.abs(rng.normal(0.0, 0.006, len(close)))
        frames[ticker] = pd.DataFrame({
            "date": close.index, "open": (close * (1 - spread / 2)).round(4).to_numpy(),
            "high": (close * (1 + spread)).round(4).to_numpy(), "low": (close * (1 - spread)).round(4).to_numpy(),
            "close": close.round(4).to_numpy(), "adj_close": close.round(4).to_numpy(),
            "volume": rng.integers(5_000_000, 50_000_000, len(close)), "dividends": 0.0, "stock_splits": 0.0,
        })
    return frames


def synthetic_rates(rng: np.random.Generator, end: date) -> dict[str, pd.DataFrame]:
    """Daily USD rates on weekdays through ``end``, a small random walk from a plausible start."""
    days = pd.bdate_range(FIRST, end)
    return {currency: pd.DataFrame({"date": days, "rate": (start * np.exp(rng.normal(0, 0.004, len(days)).cumsum()))
                                    .round(6)})
            for currency, start in FX_PAIRS.items()}
