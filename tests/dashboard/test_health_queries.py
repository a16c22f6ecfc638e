"""dashboard.queries.health and meta on warehouses built in the test: feeds, staleness, failures, synthetic data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb

from dashboard.queries import health, meta
from dashboard.queries.reader import Reader
from etl.billing.base import LoadOptions
from etl.market import prices
from etl.market.csv_import import expand_price_paths, read_price_file
from etl.warehouse import Warehouse, latest_schema_version
from tests.billing.test_loader import HEADER, focus_row, write
from tests.dashboard import builders


def test_a_feed_not_loaded_for_longer_than_the_threshold_is_stale(load_billing, db_path, tmp_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("1.00", "2025-06-01")))
    reader = Reader(db_path)
    last_load = reader.row("SELECT finished_at FROM load_log")[0]
    fresh = health.billing_feeds(reader, now=last_load + timedelta(hours=35), stale_after_hours=36)
    stale = health.billing_feeds(reader, now=last_load + timedelta(hours=37), stale_after_hours=36)
    assert (fresh["stale"].tolist(), stale["stale"].tolist()) == ([False], [True])
    assert stale["hours_since_load"].tolist() == [37.0]
    assert stale[["first_day", "last_day"]].astype(str).values.tolist() == [["2025-06-01", "2025-06-01"]]


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
    # in EUR the USD costs before the first EUR rate cannot be shown
    assert health.fx_coverage(Reader(spend_db), "EUR", 7)[["currency", "rows"]].values.tolist() == [["USD", 36]]


def test_the_summary_of_the_fixture_warehouse(spend_db):
    builders.create_events(Warehouse(spend_db))
    facts = meta.summary(Reader(spend_db))
    assert (facts.schema_version, facts.outdated, facts.empty) == (latest_schema_version(), False, False)
    assert facts.cost_rows == 5 * 122 and (facts.first_day, facts.last_day) == (builders.FIRST, builders.LAST)
    assert facts.providers == ("CoreWeave", "Google Cloud", "Microsoft") and facts.currencies == ("EUR", "USD")
    assert (facts.tickers, facts.events, facts.synthetic) == (4, 3, False)


def test_an_older_warehouse_is_summarised_by_its_version_alone(spend_db):
    con = duckdb.connect(str(spend_db))  # as if published before migration 0004 and its views
    con.execute("DELETE FROM schema_migrations WHERE version = 4; DROP VIEW synthetic_data; DROP VIEW synthetic_loads")
    con.close()
    facts = meta.summary(Reader(spend_db))
    assert facts == meta.WarehouseSummary(3) and facts.outdated


def test_billing_from_a_synthetic_load_is_synthetic_whatever_its_account_is_named(load_billing, db_path, tmp_path):
    real = write(tmp_path / "real.csv", HEADER, focus_row("1.00", "2025-06-01"))
    named = tmp_path / "named.csv"
    named.write_text(builders.HEADER + "\n" + builders.focus_line("CoreWeave", "D-1", "DEMO Synthetic AI Labs", "USD",
                                                                  "GPU Compute", "Compute", "", date(2025, 6, 1)))
    load_billing(real, named)
    assert not meta.summary(Reader(db_path)).synthetic  # a DEMO name alone is not the demo's
    made_up = write(tmp_path / "made_up.csv", HEADER, focus_row("2.00", "2025-06-02", account="A9"))
    load_billing(made_up, options=LoadOptions(synthetic=True))
    assert meta.summary(Reader(db_path)).synthetic
    load_billing(write(made_up, HEADER, focus_row("3.00", "2025-06-02", account="A9")))  # real data replaces it
    assert not meta.summary(Reader(db_path)).synthetic


def test_market_data_from_a_synthetic_load_is_synthetic(spend_db, tmp_path):
    reader = Reader(spend_db)
    assert not meta.synthetic_market(reader)
    builders.write_price_files(tmp_path)
    [spy] = [f for f in expand_price_paths([str(tmp_path)])[0] if f.path.stem == "SPY"]
    batch = read_price_file(spy)
    batch.result.synthetic = True  # as `python -m etl demo` records its price loads
    batch.frame["close"] *= 1.01  # changed rows, so this load writes them
    with Warehouse(spend_db).write("demo prices") as session:
        prices.store_all(session, [batch], [], builders.TICKERS, datetime.now(UTC))
    assert meta.synthetic_market(reader) == meta.SyntheticMarket(("SPY",), ())
    with Warehouse(spend_db).write("demo rates") as session:  # a synthetic load that last wrote June's EUR rates
        con = session.con
        con.execute("INSERT INTO load_log (load_id, kind, source, files, format, status, started_at, finished_at, "
                    "synthetic) VALUES (999, 'fx', 'demo:EURUSD=X', [], 'synthetic', 'loaded', now()::TIMESTAMP, "
                    "now()::TIMESTAMP, true)")
        con.execute("UPDATE fx_rates SET load_id = 999 WHERE date >= DATE '2025-06-01'")
    assert meta.synthetic_market(reader) == meta.SyntheticMarket(("SPY",), ("EUR",))
