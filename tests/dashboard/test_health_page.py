"""Data health page: feeds, staleness and failures shown from the warehouse."""

from __future__ import annotations

from datetime import timedelta

from dashboard.queries import health
from dashboard.queries.reader import Reader
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
    feeds, failing, loads = (frame.value for frame in at.dataframe)  # in page order
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
