"""dashboard.queries.market: the tickers with prices and their closes, read from the fixture warehouse."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.queries import market
from dashboard.queries.reader import Reader
from tests.dashboard import builders
from tests.dashboard.builders import FIRST, LAST


@pytest.fixture
def reader(spend_db) -> Reader:
    return Reader(spend_db)


def test_price_tickers(reader):
    tickers = market.price_tickers(reader)
    assert tickers["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert set(tickers["sessions"]) == {len(builders.stored_prices("SPY"))}
    assert tickers["exchange"].tolist() == ["XNAS", "XNAS", "XNAS", "XNYS"]  # listings (sql/seed/market_listing.csv)
    assert set(tickers["currency"]) == {"USD"}


def test_closes_are_the_raw_close_and_the_total_return_price_within_the_range(reader):
    rows = market.closes(reader, ("MSFT", "SPY"), FIRST, LAST)
    stored = builders.stored_prices("MSFT").set_index("date").loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    msft = rows[rows["ticker"] == "MSFT"].set_index("date")
    assert msft.index.tolist() == stored.index.tolist()
    assert msft["close"].tolist() == pytest.approx(stored["close"].tolist())
    assert msft["total"].tolist() == pytest.approx(stored["adj_close"].tolist())  # the dividend-adjusted close
    assert set(msft["currency"]) == {"USD"} and rows["ticker"].tolist()[-1] == "SPY"


def test_closes_fall_back_to_the_close_without_an_adjusted_one(reader, spend_db):
    from etl.warehouse import Warehouse

    with Warehouse(spend_db).write("no adjusted closes") as session:
        con = session.con
        con.execute("UPDATE prices SET adj_close = NULL WHERE ticker = 'MSFT'")
    rows = market.closes(reader, ("MSFT",), FIRST, LAST)
    assert rows["total"].tolist() == rows["close"].tolist()
    assert market.adjusted_closes(reader, ("MSFT", "SPY"))["ticker"].unique().tolist() == ["SPY"]


def test_adjusted_closes_are_every_session_of_the_tickers_asked(reader):
    frame = market.adjusted_closes(reader, ("GOOGL", "AMZN"))
    stored = builders.stored_prices("GOOGL")
    assert frame["ticker"].unique().tolist() == ["GOOGL"]  # AMZN has no prices
    assert sorted(pd.to_datetime(frame["date"])) == stored["date"].tolist()
    assert frame.sort_values("date")["adj_close"].tolist() == pytest.approx(stored["adj_close"].tolist())
