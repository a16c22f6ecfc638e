"""The Yahoo adapter fed frames shaped exactly as yfinance 1.7 returns them, checked by what lands in DuckDB."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pandas as pd
import pytest
import yfinance

from etl.market import prices, yahoo
from tests.conftest import BLACKHOLE_PROXY
from tests.market.fakes import (
    CONNECTION_ERROR,
    FakeYahoo,
    assemble,
    empty_df,
    fixture_history,
    need_market_fixtures,
)

AFTER_CLOSE_0610 = datetime(2025, 6, 10, 21, 0, tzinfo=UTC)  # 17:00 New York: the 2025-06-10 session closed


def fetch_and_store(warehouse, tickers, now, *, start=date(2025, 6, 2), overlap=10, backoff=15.0, sleep=None,
                    full=False):
    outcome = prices.fetch(tickers, warehouse.path, start=start, overlap_days=overlap, max_backoff_minutes=backoff,
                           now=now, full=full, sleep=sleep or (lambda s: None))
    if outcome.unreachable:
        return outcome, []
    with warehouse.write("test") as session:
        results = prices.store_all(session, outcome.batches, outcome.failures, {}, now)
    return outcome, results


def test_the_fake_total_failure_matches_what_yfinance_returns_offline():
    """Real yfinance through the suite's blackhole proxy (fails locally at once) vs the fake's empty frame."""
    assert yfinance.config.network.proxy == BLACKHOLE_PROXY
    real = yahoo._call(["MSFT", "GOOGL"], date(2025, 6, 2), date(2025, 6, 11))[0]
    fake = assemble({"GOOGL": empty_df(), "MSFT": empty_df()})
    assert real.shape == fake.shape == (0, 12)
    assert list(real.columns) == list(fake.columns)
    assert list(real.columns.names) == list(fake.columns.names) == ["Price", "Ticker"]
    assert ("Adj Close", "MSFT") in real.columns


def test_a_multi_ticker_frame_lands_in_long_form(monkeypatch, warehouse, query):
    need_market_fixtures()
    fake = FakeYahoo()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    frame = fake(["MSFT", "GOOGL"], start="2025-06-02", end="2025-06-11", auto_adjust=False, actions=True)
    assert list(frame.columns.names) == ["Price", "Ticker"]
    assert list(dict.fromkeys(frame.columns.get_level_values(0))) == sorted(
        ["Adj Close", "Close", "Dividends", "High", "Low", "Open", "Stock Splits", "Volume"])
    assert frame.index.name == "Date" and frame.index.tz is None

    _, results = fetch_and_store(warehouse, ["MSFT", "GOOGL"], AFTER_CLOSE_0610)
    assert [(r.source, r.status, r.rows) for r in results] == [("MSFT", "loaded", 7), ("GOOGL", "loaded", 7)]
    assert query("SELECT close, volume, currency, exchange FROM prices WHERE ticker = 'MSFT' AND date = '2025-06-10'"
                 ) == [(pytest.approx(470.92, abs=1e-4), 15375900, "USD", "XNAS")]
    assert query("SELECT close, dividends FROM prices WHERE ticker = 'GOOGL' AND date = '2025-06-09'") == [
        (pytest.approx(176.09, abs=1e-4), 0.21)]
    adj, close = query("SELECT adj_close, close FROM prices WHERE ticker = 'GOOGL' AND date = '2025-06-06'")[0]
    assert adj / close == pytest.approx(1 - 0.21 / 173.68, rel=1e-7)
    assert query("SELECT DISTINCT stock_splits FROM prices") == [(0.0,)]
    assert query("SELECT kind, source, files, status, format FROM load_log ORDER BY load_id") == [
        ("prices", "MSFT", [], "loaded", "yahoo"), ("prices", "GOOGL", [], "loaded", "yahoo")]


def test_an_all_nan_ticker_fails_alone_and_keeps_its_rows(monkeypatch, warehouse, query):
    need_market_fixtures()
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo())
    fetch_and_store(warehouse, ["MSFT", "NVDA"], datetime(2025, 6, 5, 21, tzinfo=UTC))
    before = query("SELECT * FROM prices WHERE ticker = 'NVDA' ORDER BY date")
    assert len(before) == 4

    fake = FakeYahoo(fail={"NVDA": "$NVDA: possibly delisted; no price data found (1d 2025-05-26 -> 2025-06-11)"})
    monkeypatch.setattr(yahoo.yf, "download", fake)
    frame = fake(["MSFT", "NVDA"], start="2025-06-02", end="2025-06-11", auto_adjust=False, actions=True)
    assert frame["Close"]["NVDA"].isna().all() and frame["Close"]["MSFT"].notna().all()

    outcome, results = fetch_and_store(warehouse, ["MSFT", "NVDA"], AFTER_CLOSE_0610)
    assert not outcome.unreachable
    status = {r.source: (r.status, r.error) for r in results}
    assert status["MSFT"][0] == "loaded"
    assert status["NVDA"] == ("failed", "possibly delisted; no price data found (1d 2025-05-26 -> 2025-06-11)")
    assert query("SELECT * FROM prices WHERE ticker = 'NVDA' ORDER BY date") == before
    assert query("SELECT max(date) FROM prices WHERE ticker = 'MSFT'") == [(date(2025, 6, 10),)]
    assert query("SELECT status, error FROM load_log WHERE source = 'NVDA' ORDER BY load_id DESC LIMIT 1") == [
        ("failed", "possibly delisted; no price data found (1d 2025-05-26 -> 2025-06-11)")]


def test_an_empty_frame_is_a_failure_not_no_data(monkeypatch, warehouse, query):
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(history=lambda *a: None, fail={}))
    outcome, results = fetch_and_store(warehouse, ["MSFT", "GOOGL"], AFTER_CLOSE_0610)
    assert [(r.source, r.status) for r in results] == [("MSFT", "failed"), ("GOOGL", "failed")]
    assert all("possibly delisted" in r.error for r in results)
    assert not outcome.unreachable  # Yahoo answered, with nothing: logged as failed loads
    assert query("SELECT count(*) FROM prices") == [(0,)]
    assert query("SELECT source, status FROM load_log ORDER BY load_id") == [("MSFT", "failed"),
                                                                            ("GOOGL", "failed")]


def test_a_network_failure_is_unreachable_and_writes_nothing(monkeypatch, warehouse):
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(fail={"MSFT": CONNECTION_ERROR, "GOOGL": CONNECTION_ERROR}))
    outcome, _ = fetch_and_store(warehouse, ["MSFT", "GOOGL"], AFTER_CLOSE_0610)
    assert outcome.unreachable
    assert outcome.unreachable_reason == (
        "could not reach Yahoo Finance: Failed to connect to query2.finance.yahoo.com:443 over proxy 127.0.0.1 "
        "after 0 ms: Could not connect to server")
    assert not warehouse.path.exists()


def test_rate_limits_back_off_in_minutes_then_succeed(monkeypatch, warehouse, query, caplog):
    need_market_fixtures()
    fake = FakeYahoo(rate_limit_raises=1, rate_limit_logged=1)
    monkeypatch.setattr(yahoo.yf, "download", fake)
    waits: list[float] = []
    with caplog.at_level(logging.WARNING, logger="etl.market.yahoo"):
        _, results = fetch_and_store(warehouse, ["MSFT"], AFTER_CLOSE_0610, sleep=waits.append)
    assert waits == [60, 120]
    assert len(fake.calls) == 3
    assert [(r.source, r.status, r.rows) for r in results] == [("MSFT", "loaded", 7)]
    assert "Yahoo rate limit (HTTP 429) for MSFT: waiting 1 min" in caplog.text


def test_rate_limit_back_off_is_bounded_and_fails_only_the_limited_tickers(monkeypatch, warehouse, query):
    need_market_fixtures()
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(rate_limit_raises=10))
    waits: list[float] = []
    _, results = fetch_and_store(warehouse, ["MSFT", "GOOGL"], AFTER_CLOSE_0610, backoff=4, sleep=waits.append)
    assert waits == [60, 120]  # 1 + 2 minutes; another 4 would exceed the 4-minute budget
    assert {r.status for r in results} == {"failed"}
    assert results[0].error == ("rate limited by Yahoo (HTTP 429); gave up after waiting 3 min (the back-off "
                                "budget left of setting market.max_backoff_minutes was 4 min)")
    assert query("SELECT count(*) FROM prices") == [(0,)]
    assert query("SELECT count(*) FROM load_log WHERE status = 'failed'") == [(2,)]


def test_tz_aware_history_frames_keep_their_exchange_local_date():
    need_market_fixtures()
    tokyo = fixture_history("MSFT", pd.Timestamp("2025-06-09"), pd.Timestamp("2025-06-11"), tz="Asia/Tokyo")
    frame = pd.concat({"MSFT": tokyo}, axis=1, names=["Ticker", "Price"]).swaplevel(0, 1, axis=1)
    tidy, failures = yahoo.to_long(frame, ["MSFT"])
    assert not failures
    assert list(tidy["date"].dt.date) == [date(2025, 6, 9), date(2025, 6, 10)]


def test_an_unexpected_frame_fails_the_tickers_instead_of_crashing(monkeypatch, warehouse, query):
    need_market_fixtures()
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(
        history=lambda s, start, end: fixture_history(s, start, end).drop(columns=["Adj Close"])))
    _, [result] = fetch_and_store(warehouse, ["MSFT"], AFTER_CLOSE_0610)
    assert result.status == "failed"
    assert result.error.startswith("unexpected answer from yfinance: Yahoo's answer for MSFT has no Adj Close")
    assert query("SELECT count(*) FROM prices") == [(0,)]


def test_a_frame_without_adj_close_is_a_format_error():
    need_market_fixtures()
    history = fixture_history("MSFT", pd.Timestamp("2025-06-09"), pd.Timestamp("2025-06-11")).drop(
        columns=["Adj Close"])
    frame = assemble({"MSFT": history})
    with pytest.raises(yahoo.YahooFormatError, match="no Adj Close column"):
        yahoo.to_long(frame, ["MSFT"])


def test_the_back_off_budget_is_shared_by_every_download_of_a_run(monkeypatch, warehouse):
    """A new ticker and a stored one are two downloads (different starts); together they wait at most 4 min."""
    need_market_fixtures()
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo())
    fetch_and_store(warehouse, ["MSFT"], datetime(2025, 6, 5, 21, tzinfo=UTC))
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(rate_limit_raises=10))
    waits: list[float] = []
    _, results = fetch_and_store(warehouse, ["MSFT", "GOOGL"], AFTER_CLOSE_0610, backoff=4, sleep=waits.append)
    assert waits == [60, 120, 60]  # 1 + 2 min for the first download, the last minute for the second
    assert {r.status for r in results} == {"failed"}
