"""`etl demo` asks Yahoo for real prices and rates first, briefly, and makes up only what did not come.

Yahoo is the fake ``yf.download`` of tests/market/fakes.py (frames shaped like yfinance 1.x), patched at the
adapter's boundary; nothing here reaches the network."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from etl.market import yahoo
from tests.market.fakes import CONNECTION_ERROR, FakeYahoo, fixture_history, need_market_fixtures, synthetic_history

pytestmark = pytest.mark.slow  # a demo build or real processes each: run first (tests/conftest.py)

DEMO = ("demo", "--end", "2025-12-31", "--rows", "600")
REAL = ("GOOGL", "MSFT", "AMZN", "ORCL", "NVDA", "CRWV", "SPY", "QQQ")  # the configured tickers in the fixtures


def market_fake(**kwargs) -> FakeYahoo:
    """Yahoo with the shared fixtures' prices and two days of rates for every FX pair; other symbols fail."""
    rates = synthetic_history({"2025-06-02": 0.9, "2025-06-03": 0.91})
    return FakeYahoo(history=lambda symbol, start, end: rates(symbol, start, end) if symbol.endswith("=X")
                     else fixture_history(symbol, start, end), **kwargs)


def test_when_yahoo_answers_the_demo_stores_real_prices_and_rates_and_makes_up_only_the_rest(
        tmp_path, cli, query, monkeypatch):
    need_market_fixtures()
    fake = market_fake()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    # the whole attempt is bounded by the timeout: a generous one, so a busy machine cannot turn answers into a miss
    monkeypatch.setenv("SPENDSCOPE_DEMO__MARKET_TIMEOUT_S", "120")
    demo = cli(*DEMO, "--out", str(tmp_path / "exports"))
    assert demo.code == 0, demo.err
    assert (f"REAL prices from Yahoo for 8 tickers ({', '.join(REAL)}) and FX rates for CAD, EUR, GBP, NOK, JPY; "
            "not from Yahoo: SYNTHETIC prices for ^N225, 9984.T and FX rates for no currency") in demo.out
    assert {call["timeout"] for call in fake.calls} == {120.0}  # setting demo.market_timeout_s, per request
    assert sorted(query("SELECT subject FROM real_data WHERE kind = 'prices'")) == sorted((t,) for t in REAL)
    assert query("SELECT close FROM prices WHERE ticker = 'MSFT' AND date = '2025-06-10'") == [(470.9200134277344,)]
    assert query("SELECT DISTINCT format, synthetic FROM load_log WHERE kind = 'prices' AND source = 'GOOGL'"
                 ) == [("yahoo", False)]
    assert query("SELECT subject FROM synthetic_data WHERE kind IN ('prices', 'fx') ORDER BY 1") == [
        ("9984.T",), ("^N225",)]
    # the symbols Yahoo did not have (^GSPC, 9984.T, ^N225) leave no failed load for `status` to report
    assert query("SELECT count(*) FROM load_log WHERE status = 'failed'") == [(0,)]
    assert query("SELECT count(*) FROM event_study_results WHERE ticker = 'GOOGL'")[0][0] > 0

    offline = cli(*DEMO, "--offline", "--out", str(tmp_path / "exports"))  # re-runnable: keeps the real series
    assert offline.code == 0, offline.err
    assert "--offline: SYNTHETIC prices for ^N225, 9984.T and FX rates for no currency" in offline.out
    assert len(query("SELECT subject FROM real_data WHERE kind = 'prices'")) == len(REAL)


def test_when_yahoo_is_unreachable_the_demo_says_so_and_uses_synthetic_prices(tmp_path, cli, query, monkeypatch):
    symbols = [*REAL, "^GSPC", "^N225", "9984.T", "CADUSD=X", "EURUSD=X", "GBPUSD=X", "NOKUSD=X", "JPYUSD=X"]
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(fail=dict.fromkeys(symbols, CONNECTION_ERROR)))
    demo = cli(*DEMO, "--out", str(tmp_path / "exports"))
    assert demo.code == 0, demo.err
    assert ("Yahoo not reachable in 10 s: SYNTHETIC prices for SPY, ^N225, QQQ, GOOGL, MSFT, AMZN, ORCL, NVDA, "
            "CRWV, 9984.T and FX rates for EUR (load_log format 'synthetic')") in demo.out
    assert query("SELECT * FROM real_data WHERE kind <> 'billing'") == []
    assert query("SELECT count(*) FROM load_log WHERE status = 'failed'") == [(0,)]


def test_a_yahoo_that_does_not_answer_is_given_up_after_the_timeout(tmp_path, cli, query, monkeypatch):
    release = threading.Event()

    def hanging(*args, **kwargs) -> pd.DataFrame:
        release.wait()  # never answers while the demo runs: only the bounded attempt lets this test finish
        raise ConnectionError("released")

    monkeypatch.setattr(yahoo.yf, "download", hanging)
    monkeypatch.setenv("SPENDSCOPE_DEMO__MARKET_TIMEOUT_S", "0.2")
    try:
        demo = cli(*DEMO, "--out", str(tmp_path / "exports"))
    finally:
        release.set()
    assert demo.code == 0, demo.err
    assert "Yahoo not reachable in 0.2 s: SYNTHETIC prices for SPY, ^N225, QQQ, GOOGL, MSFT" in demo.out
    assert query("SELECT count(DISTINCT ticker) FROM prices") == [(10,)]


@pytest.mark.parametrize("flag", ["--offline", "--no-market"])
def test_offline_and_no_market_do_not_ask_yahoo(tmp_path, cli, monkeypatch, flag):
    fake = FakeYahoo()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    assert cli(*DEMO, flag, "--out", str(tmp_path / "exports")).code == 0
    assert fake.calls == []
