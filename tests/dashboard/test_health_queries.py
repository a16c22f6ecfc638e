"""dashboard.queries.health and meta on warehouses built in the test: feeds, staleness, failures, synthetic data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from dashboard.queries import health, meta
from dashboard.queries.reader import Reader
from etl.billing.base import LoadOptions
from etl.freshness import Freshness
from etl.market import prices
from etl.market.csv_import import expand_price_paths, read_price_file
from etl.warehouse import Warehouse, latest_schema_version
from tests.billing.test_loader import HEADER, focus_row, write
from tests.dashboard import builders


def test_billing_feeds_are_fresh_by_data_within_the_expected_lag(load_billing, db_path, tmp_path):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("1.00", "2025-06-01"),
                       focus_row("2.00", "2025-06-01", currency="EUR")))
    reader = Reader(db_path)
    data_until = datetime(2025, 6, 1, 1)  # the row's ChargePeriodEnd
    fresh = health.billing_feeds(reader, now=data_until + timedelta(days=2), settings=Freshness())
    stale = health.billing_feeds(reader, now=data_until + timedelta(days=2, hours=3), settings=Freshness())
    assert fresh[["currency", "rows", "days_behind", "stale"]].values.tolist() == [["EUR", 1, 2.0, False],
                                                                                  ["USD", 1, 2.0, False]]
    assert (stale["days_behind"].tolist(), stale["stale"].tolist()) == ([2.1, 2.1], [True, True])
    # the last load stays a second fact
    assert stale["last_load"].tolist() == [reader.row("SELECT finished_at FROM load_log")[0]] * 2
    lenient = Freshness(billing_lag_by_provider=(("CoreWeave", 3.0),))
    assert health.billing_feeds(reader, now=data_until + timedelta(days=2, hours=3), settings=lenient)[
        "stale"].tolist() == [False, False]


def test_open_failures_and_recent_loads_come_from_the_load_views(load_billing, db_path, tmp_path):
    path = tmp_path / "feed.csv"
    load_billing(write(path, HEADER, focus_row("1.00", "2025-06-01")))
    load_billing(write(path, HEADER, focus_row("x", "2025-06-01")))
    other = write(tmp_path / "other.csv", HEADER, focus_row("y", "2025-06-02"))
    load_billing(other)
    reader = Reader(db_path)
    failures = health.failures(reader)
    assert failures[["load_id", "source", "state"]].values.tolist() == [[3, str(other), "open"],
                                                                        [2, str(path), "open"]]  # newest first
    assert 'line 2, column "BilledCost": "x" is not a number' in failures["error"][1]
    loads = health.recent_loads(reader, limit=2)
    assert loads["source"].tolist() == [str(other), str(path)]
    assert loads["status"].tolist() == ["failed", "failed"]
    assert loads["detail"][0] == failures["error"][0]
    load_billing(write(path, HEADER, focus_row("2.00", "2025-06-01")))
    assert health.failures(reader)[["load_id", "state", "resolved_by"]].values.tolist() == [
        [3, "open", pd.NA], [2, "resolved", 4]]  # feed.csv loaded again


def test_price_feeds_count_closed_sessions_of_their_exchange_and_fx_days(spend_db):
    reader = Reader(spend_db)  # every ticker's last session is Monday 2025-06-30
    same_evening = health.price_feeds(reader, now=datetime(2025, 7, 1, 19, 59), settings=Freshness())
    assert same_evening["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert same_evening["rows"].tolist() == [len(builders.stored_prices("SPY"))] * 4
    assert same_evening["sessions_behind"].tolist() == [0] * 4  # 1 July has not closed (20:00 UTC)
    after_close = health.price_feeds(reader, now=datetime(2025, 7, 1, 20, 1), settings=Freshness())
    assert (after_close["sessions_behind"].tolist(), after_close["stale"].tolist()) == ([1] * 4, [False] * 4)
    # 2, 3 (closing early) and 7 July, not the holiday of 4 July nor the weekend
    week = health.price_feeds(reader, now=datetime(2025, 7, 7, 20, 30), settings=Freshness())
    assert week[["sessions_behind", "days_behind", "stale"]].values.tolist() == [[4, 7, True]] * 4
    assert week["latest_closed"].tolist() == [date(2025, 7, 7)] * 4
    fx = health.fx_feeds(reader, now=datetime(2025, 7, 5, 3), settings=Freshness())
    assert fx[["pair", "rows", "last_rate", "days_behind", "stale"]].values.tolist() == [
        ["EURUSD", 113, 1.1, 4.1, True]]
    assert not health.fx_feeds(reader, now=datetime(2025, 7, 5), settings=Freshness())["stale"][0]


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
    con.execute("DELETE FROM schema_migrations WHERE version >= 4; DROP VIEW synthetic_data; DROP VIEW synthetic_loads")
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
