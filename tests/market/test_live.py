"""Live contract test against Yahoo Finance: run with SPENDSCOPE_TEST_NETWORK=1 (skipped otherwise).

It catches format changes in Yahoo or yfinance that the offline fakes cannot: one ticker, a few weeks.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from etl.market import yahoo
from tests.conftest import _PROXY_VARIABLES

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("SPENDSCOPE_TEST_NETWORK") != "1",
                       reason="reaches Yahoo Finance; set SPENDSCOPE_TEST_NETWORK=1 to run it"),
]


def test_one_ticker_keeps_the_column_contract(monkeypatch):
    monkeypatch.setattr(yahoo.yf.config.network, "proxy", None)  # lift the suite's network guard
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    end = datetime.now(UTC).date()
    start = end - timedelta(days=30)

    raw = yahoo.yf.download(["MSFT", "SPY"], start=start.isoformat(), end=end.isoformat(), auto_adjust=False,
                            actions=True, progress=False, threads=False)
    assert list(raw.columns.names) == ["Price", "Ticker"]
    assert {"Adj Close", "Close", "Dividends", "High", "Low", "Open", "Stock Splits", "Volume"} <= set(
        raw.columns.get_level_values(0))
    assert raw.index.name == "Date" and raw.index.tz is None

    got = yahoo.daily_prices(["MSFT"], start, end, max_backoff_minutes=0)
    assert not got.failures, got.failures
    frame = got.frame
    assert list(frame.columns) == list(yahoo.PRICE_COLUMNS)
    assert len(frame) >= 15 and set(frame["ticker"]) == {"MSFT"}
    assert frame["date"].is_monotonic_increasing and (frame["date"].dt.normalize() == frame["date"]).all()
    assert (frame["close"] > 0).all() and (frame["adj_close"] > 0).all()
    assert (frame["adj_close"] <= frame["close"] * 1.0001).all()  # adjusted for dividends, never above raw
    assert frame["dividends"].notna().all() and frame["stock_splits"].notna().all()
