"""dashboard.queries.health on warehouses built in the test: failures and recent loads."""

from __future__ import annotations

from dashboard.queries import health
from dashboard.queries.reader import Reader
from tests.billing.test_loader import HEADER, focus_row, write


def test_failing_sources_and_recent_loads_come_from_the_load_views(load_billing, db_path, tmp_path):
    path = tmp_path / "feed.csv"
    load_billing(write(path, HEADER, focus_row("1.00", "2025-06-01")))
    load_billing(write(path, HEADER, focus_row("x", "2025-06-01")))
    other = write(tmp_path / "other.csv", HEADER, focus_row("y", "2025-06-02"))
    load_billing(other)
    reader = Reader(db_path)
    failing = health.failing_sources(reader)
    assert failing.columns.tolist() == ["kind", "source", "format", "error", "failed_at", "last_success"]
    assert failing["source"].tolist() == [str(other), str(path)]  # latest failure first
    assert failing["last_success"].isna().tolist() == [True, False]  # other.csv never loaded
    assert 'line 2, column "BilledCost": "x" is not a number' in failing["error"][1]
    loads = health.recent_loads(reader, limit=2)
    assert loads["source"].tolist() == [str(other), str(path)]
    assert loads["status"].tolist() == ["failed", "failed"]
    assert loads["detail"][0] == failing["error"][0]
    load_billing(write(path, HEADER, focus_row("2.00", "2025-06-01")))
    assert health.failing_sources(reader)["source"].tolist() == [str(other)]  # its latest attempt succeeded
