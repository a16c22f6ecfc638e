"""dashboard.queries.events: the catalog, markers per provider, spend shares around events and the stored CARs,
read from the fixture warehouse with the test events of tests/dashboard/builders.py."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dashboard.queries import events
from dashboard.queries.reader import Reader
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.builders import FIRST, LAST, expected

PAIRS = tuple(sorted(builders.TICKERS.items()))


@pytest.fixture
def reader(spend_db) -> Reader:
    builders.create_events(Warehouse(spend_db))
    return Reader(spend_db)


def share(provider: str, first: date, last: date) -> float:
    return float(expected(first, last, providers=(provider,)) / expected(first, last))


def test_the_event_list_is_newest_first_and_details_keep_the_order_asked(reader):
    listed = events.event_list(reader)
    assert listed["event_id"].tolist() == ["ev-cw", "ev-tpu", "ev-msft"]
    assert listed["date"].dt.date.tolist() == [date(2025, 6, 2), date(2025, 5, 1), date(2025, 4, 15)]
    details = events.event_details(reader, ("ev-tpu", "ev-cw"))
    assert details["event_id"].tolist() == ["ev-tpu", "ev-cw"]
    assert details["tickers"].tolist() == [["GOOGL"], ["CRWV", "NVDA"]]
    assert details["market_time"].tolist() == ["intraday", "post"]


def test_event_markers_name_each_provider_once(reader):
    markers = events.event_markers(reader, FIRST, LAST, PAIRS)
    assert markers[["event_id", "provider"]].values.tolist() == [
        ["ev-msft", "Microsoft"], ["ev-tpu", "Google Cloud"], ["ev-cw", "CoreWeave"]]  # MSFT through its ticker
    assert markers["headline"][1] == "Acme signs a TPU capacity deal with Google"
    assert markers["source_url"][2] == "https://example.com/ev-cw"
    assert events.event_markers(reader, date(2025, 5, 2), LAST, PAIRS)["event_id"].tolist() == ["ev-cw"]
    assert events.event_markers(reader, FIRST, LAST)["event_id"].tolist() == ["ev-tpu", "ev-cw"]  # no mapping


def test_event_shares_per_window(reader):
    shares = events.event_shares(reader, "USD", "effective", 7, PAIRS, (30, 90))
    assert shares.columns.tolist() == [
        "event_id", "date", "headline", "provider", "share_before_30d", "share_after_30d", "change_30d_pp",
        "complete_30d", "share_before_90d", "share_after_90d", "change_90d_pp", "complete_90d"]
    [tpu] = shares[shares["event_id"] == "ev-tpu"].to_dict("records")
    assert tpu["provider"] == "Google Cloud"
    assert tpu["share_before_30d"] == pytest.approx(share("Google Cloud", date(2025, 4, 1), date(2025, 4, 30)))
    assert tpu["share_after_30d"] == pytest.approx(share("Google Cloud", date(2025, 5, 1), date(2025, 5, 30)))
    assert tpu["change_30d_pp"] == pytest.approx((tpu["share_after_30d"] - tpu["share_before_30d"]) * 100)
    assert tpu["share_before_90d"] == pytest.approx(share("Google Cloud", date(2025, 1, 31), date(2025, 4, 30)))
    assert (tpu["complete_30d"], tpu["complete_90d"]) == (True, False)  # 90 days before 2025-05-01: before the spend
    billed = events.event_shares(reader, "USD", "billed", 7, PAIRS, (30,))
    assert billed.columns.tolist()[4:] == [
        "share_before_30d", "share_after_30d", "change_30d_pp", "complete_30d"] and len(billed) == 3


def insert_results(spend_db, rows: str) -> None:
    with Warehouse(spend_db).write("results") as session:
        con = session.con
        con.execute(f"""INSERT INTO event_study_results BY NAME
                        SELECT event_id, ticker, benchmark, model, returns_kind, w AS "window", car,
                               DATE '2025-04-30' AS window_start, DATE '2025-05-02' AS window_end, 3 AS days,
                               car / 8 AS car_t_p, '**' AS stars, DATE '2024-05-01' AS estimation_start,
                               DATE '2025-04-15' AS estimation_end, 240 AS T, -1 AS start_day, 1 AS end_day,
                               DATE '2025-05-01' AS day0, 1 AS run_id
                        FROM (VALUES {rows}) AS t(event_id, ticker, benchmark, model, returns_kind, w, car)""")


def test_stored_cars_prefer_the_benchmark_then_the_model_then_the_returns(reader, spend_db):
    insert_results(spend_db, "('ev-tpu', 'GOOGL', 'QQQ', 'market', 'simple', '[-1,+1]', 0.5), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market_adjusted', 'simple', '[-1,+1]', 0.2), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market', 'log', '[-1,+1]', 0.3), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market', 'simple', '[-1,+1]', 0.1234), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market', 'simple', '[0,0]', 0.9), "
                             "('ev-cw', 'CRWV', 'QQQ', 'market', 'simple', '[-1,+1]', 0.7)")
    stored = events.stored_cars(reader, ("ev-tpu", "ev-cw"), "[-1,+1]", "SPY", "market", "simple")
    assert stored.sort_values("event_id").values.tolist() == [
        ["ev-cw", "CRWV", 0.7, 0.0875, "**", "market model, simple returns, vs QQQ", "event_study_results"],
        ["ev-tpu", "GOOGL", 0.1234, 0.015425, "**", "market model, simple returns, vs SPY", "event_study_results"]]
    adjusted = events.stored_cars(reader, ("ev-tpu",), "[-1,+1]", "SPY", "market_adjusted", "simple")
    assert adjusted["car"].tolist() == [0.2]
    logs = events.stored_cars(reader, ("ev-tpu",), "[-1,+1]", "SPY", "market", "log")
    assert logs["car"].tolist() == [0.3]
    assert events.stored_cars(reader, ("ev-tpu",), "[0,0]", "SPY", "market", "simple")["car"].tolist() == [0.9]


def test_an_exclusion_counts_only_against_its_benchmark(reader, spend_db):
    builders.store_exclusions(Warehouse(spend_db))
    stored = events.stored_cars(reader, ("ev-tpu", "ev-cw"), "[-1,+1]", "SPY", "market", "simple")
    [(event_id, ticker, car, p, stars, note, source)] = stored.values.tolist()
    assert (event_id, ticker, source) == ("ev-cw", "CRWV", "event_study_exclusions") and np.isnan(car)
    assert np.isnan(p) and stars is None
    assert note == ("excluded (market model, simple returns, vs SPY): only 40 sessions in the estimation window "
                    "(minimum 60)")
