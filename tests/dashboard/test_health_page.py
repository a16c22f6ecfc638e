"""Data health page under AppTest: feeds, staleness and failures shown from the warehouse."""

from __future__ import annotations

from tests.billing.test_loader import HEADER, focus_row, write


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
