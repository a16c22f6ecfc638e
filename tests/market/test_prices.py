"""Incremental price fetches: overlap, re-based adjustments, sessions still trading, calendar checks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from etl.market import calendars, prices, yahoo
from tests.market.fakes import FakeYahoo, fixture_history, need_market_fixtures
from tests.market.test_yahoo import fetch_and_store


@pytest.fixture(autouse=True)
def _fixtures():
    need_market_fixtures()


def closes(query, ticker: str) -> dict[date, tuple[float, float]]:
    return {d: (c, a) for d, c, a in query("SELECT date, close, adj_close FROM prices WHERE ticker = ? ORDER BY date",
                                           [ticker])}


def test_a_second_fetch_reads_only_the_overlap_and_adds_new_sessions(monkeypatch, warehouse, query):
    fake = FakeYahoo()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    fetch_and_store(warehouse, ["MSFT"], datetime(2025, 6, 5, 21, tzinfo=UTC), start=date(2025, 5, 1))
    assert fake.calls[0]["start"] == "2025-05-01" and fake.calls[0]["end"] == "2025-06-06"
    before = query("SELECT * FROM prices ORDER BY date")

    _, [result] = fetch_and_store(warehouse, ["MSFT"], datetime(2025, 6, 10, 21, tzinfo=UTC), start=date(2025, 5, 1))
    assert fake.calls[1]["start"] == "2025-05-26"  # last stored 2025-06-05 minus 10 days of overlap
    assert (result.status, result.rows) == ("loaded", 3)
    assert result.message.startswith("3 new, 0 revised, 8 unchanged row(s)")
    assert query("SELECT * FROM prices WHERE date <= '2025-06-05' ORDER BY date") == before  # loaded_at kept too
    assert max(closes(query, "MSFT")) == date(2025, 6, 10)

    _, [again] = fetch_and_store(warehouse, ["MSFT"], datetime(2025, 6, 10, 22, tzinfo=UTC), start=date(2025, 5, 1))
    assert (again.status, again.rows) == ("unchanged", 0)


def test_a_new_dividend_in_the_overlap_refetches_the_full_history_in_one_go(monkeypatch, warehouse, query):
    fake = FakeYahoo()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    fetch_and_store(warehouse, ["GOOGL", "MSFT"], datetime(2025, 6, 6, 21, tzinfo=UTC), start=date(2025, 5, 1))
    old = closes(query, "GOOGL")
    assert all(c == a for c, a in old.values())  # no GOOGL dividend between 2025-05-01 and 2025-06-06

    _, results = fetch_and_store(warehouse, ["GOOGL", "MSFT"], datetime(2025, 6, 10, 21, tzinfo=UTC),
                                 start=date(2025, 5, 1))
    by_ticker = {r.source: r for r in results}
    assert [c["tickers"] for c in fake.calls[1:]] == [["GOOGL", "MSFT"], ["GOOGL"]]
    assert fake.calls[2]["start"] == "2025-05-01"  # the full history, from the first stored session
    assert by_ticker["GOOGL"].message.split("; ")[:2] == [
        "2 new, 26 revised row(s)", "new dividend on 2025-06-09: full history re-fetched"]
    assert "re-fetched" not in by_ticker["MSFT"].message
    new = closes(query, "GOOGL")
    ratio = 1 - 0.21 / 173.67999267578125  # dividend / close of the session before the ex-date
    for day in old:
        assert new[day][0] == old[day][0]  # raw closes do not move
        assert new[day][1] == pytest.approx(old[day][0] * ratio, rel=1e-12)
    assert new[date(2025, 6, 9)][1] == new[date(2025, 6, 9)][0]
    assert query("SELECT count(DISTINCT load_id) FROM prices WHERE ticker = 'GOOGL'") == [(1,)]


def test_a_changed_adjustment_factor_alone_triggers_the_full_refetch(monkeypatch, warehouse, query):
    """Without the Dividends column (or when Yahoo reports the dividend late) the factor gives it away."""
    fake = FakeYahoo(history=lambda s, start, end: fixture_history(s, start, end, with_actions=False))
    monkeypatch.setattr(yahoo.yf, "download", fake)
    fetch_and_store(warehouse, ["GOOGL"], datetime(2025, 6, 6, 21, tzinfo=UTC), start=date(2025, 5, 1))
    _, [result] = fetch_and_store(warehouse, ["GOOGL"], datetime(2025, 6, 10, 21, tzinfo=UTC), start=date(2025, 5, 1))
    assert "the adjustment factor of 2025-05-27 changed (a new dividend or split): full history re-fetched" in (
        result.message)
    assert query("SELECT DISTINCT dividends IS NULL, stock_splits IS NULL FROM prices") == [(True, True)]


def test_a_split_shows_in_the_raw_closes_of_the_overlap():
    stored = pd.DataFrame({"ticker": "X", "date": pd.to_datetime(["2025-06-02", "2025-06-03", "2025-06-04"]),
                           "close": [400.0, 404.0, 408.0], "adj_close": [400.0, 404.0, 408.0],
                           "dividends": 0.0, "stock_splits": 0.0})
    fetched = stored.assign(close=stored["close"] / 4, adj_close=stored["adj_close"] / 4)
    assert prices.adjustment_change(stored, fetched, date(2025, 6, 4)) == (
        "the raw close of 2025-06-02 changed (a split?)")
    assert prices.adjustment_change(stored, stored.copy(), date(2025, 6, 4)) is None
    with_split = pd.concat([stored, pd.DataFrame({"ticker": "X", "date": [pd.Timestamp("2025-06-05")],
                                                  "close": [102.0], "adj_close": [102.0], "dividends": [0.0],
                                                  "stock_splits": [4.0]})], ignore_index=True)
    assert prices.adjustment_change(stored, with_split, date(2025, 6, 4)) == "new split on 2025-06-05"


def test_a_session_still_trading_is_not_stored(monkeypatch, warehouse, query):
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo())
    during = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York
    _, [result] = fetch_and_store(warehouse, ["MSFT"], during)
    assert "not stored: 2025-06-10 (session not closed yet)" in result.message
    assert query("SELECT max(date) FROM prices") == [(date(2025, 6, 9),)]


def test_missing_and_extra_sessions_are_recorded_in_the_load_log(monkeypatch, warehouse, query):
    def history(symbol, start, end):
        frame = fixture_history(symbol, start, end)
        frame = frame.drop(index=pd.Timestamp("2025-06-04", tz="America/New_York"))
        holiday = frame.iloc[[-1]].copy()  # a bar on Juneteenth, when Nasdaq was closed
        holiday.index = pd.DatetimeIndex([pd.Timestamp("2025-06-19", tz="America/New_York")], name="Date")
        return pd.concat([frame, holiday]).sort_index()

    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(history=history))
    _, [result] = fetch_and_store(warehouse, ["MSFT"], datetime(2025, 6, 20, 21, tzinfo=UTC))
    assert result.status == "loaded"
    [(message,)] = query("SELECT message FROM load_log WHERE source = 'MSFT'")
    assert "missing sessions (1) on XNAS: 2025-06-04; extra sessions (1) on XNAS: 2025-06-19" in message


def test_tickers_are_placed_on_their_exchange():
    assert calendars.listing("9984.T").calendar == "XTKS" and calendars.listing("9984.T").currency == "JPY"
    assert calendars.listing("^N225").calendar == "XTKS"
    assert calendars.listing("SPY").calendar == "XNYS"
    unknown = calendars.listing("7203.t")
    assert (unknown.ticker, unknown.calendar, unknown.currency, unknown.known) == ("7203.T", "XTKS", "JPY", False)
    assert "not in sql/seed/market_listing.csv" in unknown.note


def test_tokyo_sessions_and_closes_come_from_xtks():
    check = calendars.check_sessions([date(2025, 1, 10), date(2025, 1, 13), date(2025, 1, 15)], "XTKS")
    assert check.missing == [date(2025, 1, 14)] and check.extra == [date(2025, 1, 13)]  # Coming of Age Day
    day = pd.Series(pd.to_datetime(["2025-06-10"]))
    assert not calendars.closed_mask(day, "XTKS", datetime(2025, 6, 10, 5, 0, tzinfo=UTC)).iloc[0]  # 14:00 JST
    assert calendars.closed_mask(day, "XTKS", datetime(2025, 6, 10, 8, 0, tzinfo=UTC)).iloc[0]  # 17:00 JST
    assert calendars.check_sessions([date(1990, 1, 4)], "XTKS").ok  # before XTKS's first date (1997): unchecked
    with pytest.raises(ValueError, match="tz-aware"):
        calendars.closed_mask(day, "XTKS", datetime(2025, 6, 10, 8, 0))
