"""Data health page under AppTest: feeds, staleness and failures shown from the warehouse."""

from __future__ import annotations

from tests.billing.test_loader import HEADER, focus_row, write


def test_empty_warehouse_shows_how_to_load_data(app):
    at = app("data_health")
    assert any("python -m etl demo" in info.value for info in at.info)


def test_feeds_failures_and_loads_are_listed(app, cli, load_billing, tmp_path):
    good = write(tmp_path / "good.csv", HEADER, focus_row("12.50", "2025-06-01"),
                 focus_row("7.50", "2025-06-02", account="A2", currency="EUR"))
    bad = write(tmp_path / "bad.csv", HEADER, focus_row("x", "2025-06-01"))
    gone = write(tmp_path / "gone.csv", HEADER, focus_row("y", "2025-06-01"))
    load_billing(good, bad, gone)
    assert cli("loads", "dismiss", "3", "--by", "ops", "--reason", "file withdrawn").code == 0
    at = app("data_health")
    feeds, failing, dismissed, loads = (frame.value for frame in at.dataframe[:4])  # in page order; market after
    assert feeds[["provider", "account", "currency", "rows"]].values.tolist() == [
        ["CoreWeave", "A1", "USD", 1], ["CoreWeave", "A2", "EUR", 1]]
    assert [float(v) for v in feeds["billed_cost"]] == [12.5, 7.5]
    assert [str(t) for t in feeds["data_until"]] == ["2025-06-01 01:00:00", "2025-06-02 01:00:00"]
    assert feeds["stale"].tolist() == [True, True] and feeds["lag_days"].tolist() == [2.0, 2.0]  # June 2025 is old
    assert [m.value for m in at.metric] == ["2", "2", "1"]
    assert failing[["load_id", "source"]].values.tolist() == [[2, str(bad)]]
    assert 'line 2, column "BilledCost": "x" is not a number' in failing["error"].iloc[0]
    assert any("python -m etl loads dismiss LOAD_ID" in c.value for c in at.caption)
    assert dismissed[["load_id", "source", "dismissed_by", "dismiss_reason"]].values.tolist() == [
        [3, str(gone), "ops", "file withdrawn"]]
    assert loads["status"].tolist() == ["failed", "failed", "loaded"]


def test_the_page_shows_market_feeds_and_fx_coverage(app, spend_db):
    at = app("data_health")
    frames = [frame.value for frame in at.dataframe]
    price_feeds, fx_feeds, coverage = frames[-3:]
    assert price_feeds["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert fx_feeds["pair"].tolist() == ["EURUSD"]
    assert coverage[["currency", "rows"]].values.tolist() == [["EUR", 9]]
    assert "**Prices per ticker**: 4 tickers, 4 stale" in [m.value for m in at.markdown]  # the data is old
    assert "**FX rates per pair**: 1 pair, 1 stale" in [m.value for m in at.markdown]
    assert price_feeds["sessions_behind"].min() > 100 and price_feeds["stale"].all()  # sessions since 2025-06-30
    assert any("freshness.prices_sessions" in c.value for c in at.caption)
    assert not at.warning  # nothing synthetic here
