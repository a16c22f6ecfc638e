"""Stand-ins for ``yf.download`` that return frames shaped exactly as yfinance 1.7 returns them.

``FakeYahoo`` rebuilds ``yf.download``'s own assembly (yfinance/multi.py): each ticker's ``Ticker.history``
frame (exchange-midnight tz-aware index named "Date"; Open, High, Low, Close, Adj Close, Volume, Dividends,
Stock Splits), then ``tz_localize(None)``, reindexing to the union of dates (NaN blocks for failed
tickers, built like ``utils.empty_df``), ``concat(keys=..., names=['Ticker', 'Price'])``, ``swaplevel`` and
``sort_index(level=0, axis=1)``, so the result has MultiIndex ('Price', 'Ticker') columns with the price
level in alphabetical order, and a total failure is the (0, 6 x tickers) frame including 'Adj Close'.
Failures are logged to the "yfinance" logger in yfinance's own words.

The prices come from the real files in ``../shared/fixtures/market/`` (raw closes and dividends); Yahoo's
adjusted close is rebuilt from the dividends known *before the request's end*, which is how an adjusted
series re-bases when a new dividend arrives.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from yfinance.exceptions import YFRateLimitError

from tests.conftest import SHARED

MARKET = SHARED / "fixtures" / "market" / "sungkyu-kim39-backtester39"
NEW_YORK = "America/New_York"
CONNECTION_ERROR = ("ConnectionError('Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com:443 "
                    "over proxy 127.0.0.1 after 0 ms: Could not connect to server. See "
                    "https://curl.se/libcurl/c/libcurl-errors.html first for more details.')")
RATE_LIMITED = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"

History = Callable[[str, pd.Timestamp, pd.Timestamp], "pd.DataFrame | None"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def fixture_history(ticker: str, start: pd.Timestamp, end: pd.Timestamp, tz: str = NEW_YORK,
                    with_actions: bool = True) -> pd.DataFrame | None:
    """``Ticker.history(start, end, auto_adjust=False, actions=True)`` of a fixture ticker, as of ``end``."""
    path = MARKET / f"{ticker}.csv"
    if not path.exists():
        return None
    rows = [r for r in read_rows(path) if start <= pd.Timestamp(r["Date"]) < end]
    dividends_path = MARKET / f"{ticker}_dividends.csv"
    dividends = {pd.Timestamp(r["Date"]): float(r["Dividend"]) for r in read_rows(dividends_path)
                 if pd.Timestamp(r["Date"]) < end} if dividends_path.exists() else {}
    # all rows up to the end, to place every known dividend (also those before the requested start)
    every = [r for r in read_rows(path) if pd.Timestamp(r["Date"]) < end]
    closes = {pd.Timestamp(r["Date"]): float(r["Close"]) for r in every}
    days = sorted(closes)
    factor = {d: 1.0 for d in days}
    for ex, amount in dividends.items():
        before = [d for d in days if d < ex]
        if not before or ex > days[-1]:
            continue
        multiplier = 1 - amount / closes[before[-1]]
        for d in before:
            factor[d] *= multiplier
    index = pd.DatetimeIndex([pd.Timestamp(r["Date"]) for r in rows]).tz_localize(tz)
    frame = pd.DataFrame({
        "Open": [float(r["Open"]) for r in rows],
        "High": [float(r["High"]) for r in rows],
        "Low": [float(r["Low"]) for r in rows],
        "Close": [float(r["Close"]) for r in rows],
        "Adj Close": [float(r["Close"]) * factor[pd.Timestamp(r["Date"])] for r in rows],
        "Volume": np.array([int(float(r["Volume"])) for r in rows], dtype=np.int64),
    }, index=index)
    if with_actions:
        frame["Dividends"] = [dividends.get(pd.Timestamp(r["Date"]), 0.0) for r in rows]
        frame["Stock Splits"] = 0.0
    frame.index.name = "Date"
    return frame


def synthetic_history(values: dict[str, float], tz: str = "Europe/London") -> History:
    """A history source for FX-like symbols: closes by ISO date, the same for every symbol asked."""

    def history(symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
        days = [d for d in sorted(values) if start <= pd.Timestamp(d) < end]
        index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize(tz)
        closes = [values[d] for d in days]
        frame = pd.DataFrame({"Open": closes, "High": closes, "Low": closes, "Close": closes,
                              "Adj Close": closes, "Volume": np.zeros(len(days), dtype=np.int64),
                              "Dividends": 0.0, "Stock Splits": 0.0}, index=index)
        frame.index.name = "Date"
        return frame

    return history


def empty_df() -> pd.DataFrame:
    """yfinance.utils.empty_df: the block a failed ticker gets."""
    empty = pd.DataFrame(index=[], data={"Open": np.nan, "High": np.nan, "Low": np.nan, "Close": np.nan,
                                         "Adj Close": np.nan, "Volume": np.nan})
    empty.index.name = "Date"
    return empty


def assemble(dfs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """yfinance/multi.py's ``_download_impl`` after the per-ticker downloads (ignore_tz=True, group_by='column')."""
    for frame in dfs.values():
        if frame is not None and frame.shape[0] > 0:
            frame.index = frame.index.tz_localize(None)
    idx = None
    for frame in dfs.values():
        if frame is not None and not frame.empty:
            idx = frame.index if idx is None else idx.union(frame.index)
    if idx is None:
        idx = pd.DatetimeIndex([])
    dfs = {key: frame.reindex(idx) for key, frame in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


class FakeYahoo:
    """Callable in place of ``yf.download``.

    ``fail``: symbol -> reason logged the way yfinance logs a failed ticker (its block is then NaN).
    ``rate_limit_raises``: how many calls raise YFRateLimitError before answering.
    ``rate_limit_logged``: how many calls answer with every ticker failed by a (caught, logged) rate limit.
    """

    def __init__(self, history: History | None = None, fail: dict[str, str] | None = None,
                 rate_limit_raises: int = 0, rate_limit_logged: int = 0) -> None:
        self.history = history or (lambda symbol, start, end: fixture_history(symbol, start, end))
        self.fail = dict(fail or {})
        self.rate_limit_raises = rate_limit_raises
        self.rate_limit_logged = rate_limit_logged
        self.calls: list[dict] = []

    def __call__(self, tickers, start=None, end=None, **kwargs) -> pd.DataFrame:
        self.calls.append({"tickers": list(tickers), "start": start, "end": end, **kwargs})
        assert kwargs.get("auto_adjust") is False and kwargs.get("actions") is True, kwargs
        assert kwargs.get("group_by", "column") == "column" and kwargs.get("multi_level_index", True) is True
        if self.rate_limit_raises:
            self.rate_limit_raises -= 1
            raise YFRateLimitError()
        symbols = sorted({t.upper() for t in tickers})
        errors: dict[str, str] = {}
        dfs: dict[str, pd.DataFrame] = {}
        limited = self.rate_limit_logged > 0
        if limited:
            self.rate_limit_logged -= 1
        for symbol in symbols:
            frame = None if limited or symbol in self.fail else self.history(symbol, pd.Timestamp(start),
                                                                             pd.Timestamp(end))
            if frame is None or frame.empty:
                dfs[symbol] = empty_df()
                errors[symbol] = RATE_LIMITED if limited else self.fail.get(
                    symbol, f"${symbol}: possibly delisted; no price data found")
            else:
                dfs[symbol] = frame
        if errors:
            logger = logging.getLogger("yfinance")
            logger.error("\n%.f Failed download%s:", len(errors), "s" if len(errors) > 1 else "")
            grouped: dict[str, list[str]] = {}
            for symbol, error in errors.items():
                grouped.setdefault(error.replace(f"${symbol}: ", ""), []).append(symbol)
            for error, syms in grouped.items():
                logger.error(f"{syms}: " + error)
        return assemble(dfs)


def need_market_fixtures() -> None:
    import pytest

    if not MARKET.is_dir():
        pytest.skip(f"shared market fixtures not found at {MARKET} (they sit beside the checkout in CI)")
