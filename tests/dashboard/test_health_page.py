"""Data health page: feeds, staleness and failures shown from the warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb

from dashboard.queries import health, meta
from dashboard.queries.reader import Reader
from etl.market import prices
from etl.market.csv_import import expand_price_paths, read_price_file
from etl.warehouse import Warehouse
from tests.billing.test_loader import HEADER, focus_row, write
from tests.dashboard import builders


def test_empty_warehouse_shows_how_to_load_data(app):
    at = app("data_health")
    assert any("python -m etl demo" in info.value for info in at.info)


def test_feeds_failures_and_loads_are_listed(app, load_billing, tmp_path):
    good = write(tmp_path / "good.csv", HEADER, focus_row("12.50", "2025-06-01"),
                 focus_row("7.50", "2025-06-02", account="A2", currency="EUR"))
    bad = write(tmp_path / "bad.csv", HEADER, focus_row("x", "2025-06-01"))
    load_billing(good, bad)
    at = app("data_health")
    feeds, failing, loads = (frame.value for frame in at.dataframe[:3])  # in page order; market data after
    assert feeds[["provider", "account", "currency", "rows"]].values.tolist() == [
        ["CoreWeave", "A1", "USD", 1], ["CoreWeave", "A2", "EUR", 1]]
    assert [float(v) for v in feeds["billed_cost"]] == [12.5, 7.5]
    assert feeds["stale"].tolist() == [False, False]
    assert [m.value for m in at.metric] == ["2", "0", "1"]
    assert failing["source"].tolist() == [str(bad)]
    assert 'line 2, column "BilledCost": "x" is not a number' in failing["error"][0]
    assert loads["status"].tolist() == ["failed", "loaded"]


def test_a_feed_not_loaded_for_longer_than_the_threshold_is_stale(load_billing, db_path, tmp_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("1.00", "2025-06-01")))
    reader = Reader(db_path)
    last_load = reader.row("SELECT finished_at FROM load_log")[0]
    fresh = health.billing_feeds(reader, now=last_load + timedelta(hours=35), stale_after_hours=36)
    stale = health.billing_feeds(reader, now=last_load + timedelta(hours=37), stale_after_hours=36)
    assert (fresh["stale"].tolist(), stale["stale"].tolist()) == ([False], [True])
    assert stale["hours_since_load"].tolist() == [37.0]
    assert stale[["first_day", "last_day"]].astype(str).values.tolist() == [["2025-06-01", "2025-06-01"]]


def test_price_and_fx_feeds_are_stale_after_their_settings(spend_db):
    reader = Reader(spend_db)
    end_of_last_session = datetime(2025, 7, 1)  # the last session is 2025-06-30
    fresh = health.price_feeds(reader, now=end_of_last_session + timedelta(hours=95), stale_after_hours=96)
    stale = health.price_feeds(reader, now=end_of_last_session + timedelta(hours=97), stale_after_hours=96)
    assert fresh["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert (fresh["stale"].tolist(), stale["stale"].tolist()) == ([False] * 4, [True] * 4)
    assert fresh["rows"].tolist() == [len(builders.stored_prices("SPY"))] * 4
    assert [d.date() for d in fresh["last_session"]] == [date(2025, 6, 30)] * 4
    assert fresh["hours_since_session"].tolist() == [95.0] * 4
    fx = health.fx_feeds(reader, now=end_of_last_session + timedelta(hours=12), stale_after_hours=10)
    assert fx[["pair", "rows", "last_rate", "stale"]].values.tolist() == [["EURUSD", 113, 1.1, True]]


def test_fx_coverage_lists_what_cannot_be_converted(spend_db):
    coverage = health.fx_coverage(Reader(spend_db), "USD", 7)
    assert coverage[["currency", "rows", "days", "fx_issue"]].values.tolist() == [
        ["EUR", 9, 9, "no EUR/USD rate on or before 2025-03-09"]]
    assert (float(coverage["billed_cost"][0]), float(coverage["effective_cost"][0])) == (450.0, 405.0)
    assert health.fx_coverage(Reader(spend_db), "USD", 7)["currency"].tolist() == ["EUR"]
    # in EUR the USD costs before the first EUR rate cannot be shown
    assert health.fx_coverage(Reader(spend_db), "EUR", 7)[["currency", "rows"]].values.tolist() == [["USD", 36]]


def test_market_data_written_by_the_demo_is_recognised_as_synthetic(spend_db, tmp_path):
    reader = Reader(spend_db)
    assert not meta.synthetic_market(reader)
    builders.write_price_files(tmp_path)
    [spy] = [f for f in expand_price_paths([str(tmp_path)])[0] if f.path.stem == "SPY"]
    batch = read_price_file(spy)
    batch.result.format, batch.result.source = "synthetic", "demo:SPY"
    batch.frame["close"] *= 1.01  # changed rows, so this load writes them
    with Warehouse(spend_db).write("demo prices") as session:
        prices.store_all(session, [batch], [], builders.TICKERS, datetime.now(UTC))
    assert meta.synthetic_market(reader) == meta.SyntheticMarket(("SPY",), ())


def test_the_page_shows_market_feeds_and_fx_coverage(app, spend_db):
    at = app("data_health")
    frames = [frame.value for frame in at.dataframe]
    price_feeds, fx_feeds, coverage = frames[-3:]
    assert price_feeds["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert fx_feeds["pair"].tolist() == ["EURUSD"]
    assert coverage[["currency", "rows"]].values.tolist() == [["EUR", 9]]
    assert "**Prices per ticker**: 4 tickers, 4 stale" in [m.value for m in at.markdown]  # the data is old
    assert "**FX rates per pair**: 1 pair, 1 stale" in [m.value for m in at.markdown]
    assert any("freshness.prices_hours" in c.value for c in at.caption)
    assert not at.warning  # nothing synthetic here


def test_an_older_warehouse_without_market_tables_gets_a_message(app, load_billing, tmp_path, db_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("1.00", "2025-06-01")))
    con = duckdb.connect(str(db_path))  # simulate a warehouse from before migration 0002
    con.execute("DROP VIEW daily_spend_reporting; DROP VIEW cost_reporting; DROP VIEW reporting_currency; "
                "DROP TABLE fx_rates; DROP TABLE prices")
    con.close()
    at = app("data_health")
    assert any("python -m etl init" in info.value for info in at.info)
