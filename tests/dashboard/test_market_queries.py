"""dashboard.queries.market: stock lines, events, share changes and CARs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.queries import market
from dashboard.queries.reader import Reader
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.builders import FIRST, LAST, expected

PAIRS = tuple(sorted(builders.TICKERS.items()))


@pytest.fixture
def reader(spend_db) -> Reader:
    return Reader(spend_db)


@pytest.fixture
def with_events(spend_db) -> Reader:
    builders.create_events(Warehouse(spend_db))
    return Reader(spend_db)


def stored(ticker: str) -> pd.Series:
    frame = builders.stored_prices(ticker)
    return frame.set_index("date")["adj_close"]


def test_price_tickers(reader):
    tickers = market.price_tickers(reader)
    assert tickers["ticker"].tolist() == ["CRWV", "GOOGL", "MSFT", "SPY"]
    assert set(tickers["sessions"]) == {len(builders.stored_prices("SPY"))}


def test_the_price_view_is_the_raw_close(reader):
    line = market.stock_line(reader, "MSFT", FIRST, LAST, "price")
    frame = builders.stored_prices("MSFT")
    inside = frame[(frame["date"] >= pd.Timestamp(FIRST)) & (frame["date"] <= pd.Timestamp(LAST))]
    assert line.frame["value"].tolist() == pytest.approx(inside["close"].tolist())
    assert (line.unit, line.label) == ("USD", "MSFT close")


def test_the_return_view_is_the_total_return_from_the_start(reader):
    line = market.stock_line(reader, "MSFT", FIRST, LAST, "return")
    adj = stored("MSFT").loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    assert line.frame["value"].tolist() == pytest.approx(((adj / adj.iloc[0] - 1) * 100).tolist())
    close = builders.stored_prices("MSFT").set_index("date")["close"].loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    # the dividend of 2025-05-15 makes the total return differ from the price return
    assert line.frame["value"].iloc[-1] != pytest.approx(float((close.iloc[-1] / close.iloc[0] - 1) * 100))
    assert line.unit == "%"


def test_market_adjusted_car_is_the_sum_of_return_differences(reader):
    line = market.stock_line(reader, "GOOGL", FIRST, LAST, "car", benchmark="SPY", model="market_adjusted")
    firm, bench = stored("GOOGL"), stored("SPY")
    ar = (firm.pct_change() - bench.pct_change()).loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    ar.iloc[0] = 0.0
    assert line.frame["value"].tolist() == pytest.approx((ar.cumsum() * 100).tolist())
    assert line.frame["date"].iloc[0] == pd.Timestamp("2025-03-03")  # the first session of the range
    assert line.label == "GOOGL CAR vs SPY" and "market-adjusted" in line.note


def test_market_model_car_uses_alpha_and_beta_fitted_before_the_start(reader):
    line = market.stock_line(reader, "CRWV", FIRST, LAST, "car", benchmark="SPY", model="market")
    r, m = stored("CRWV").pct_change(), stored("SPY").pct_change()
    first = int(np.searchsorted(r.index, pd.Timestamp(FIRST)))
    est = slice(first - 250, first)
    beta, alpha = np.polyfit(m.iloc[est], r.iloc[est], 1)
    ar = (r - alpha - beta * m).iloc[first:]
    ar = ar[ar.index <= pd.Timestamp(LAST)]
    ar.iloc[0] = 0.0
    assert line.frame["value"].tolist() == pytest.approx((ar.cumsum() * 100).tolist())
    assert f"β = {beta:.3f}" in line.note and "250 sessions" in line.note


def test_too_short_a_history_falls_back_to_market_adjusted_with_a_note(reader):
    line = market.stock_line(reader, "GOOGL", date(2024, 2, 1), date(2024, 6, 28), "car", "SPY", "market")
    assert "market model not fitted: only 20 sessions" in line.note
    adjusted = market.stock_line(reader, "GOOGL", date(2024, 2, 1), date(2024, 6, 28), "car", "SPY")
    assert line.frame["value"].tolist() == pytest.approx(adjusted.frame["value"].tolist())


def test_a_ticker_without_prices_gives_an_empty_line(reader):
    line = market.stock_line(reader, "AMZN", FIRST, LAST, "car", "SPY")
    assert line.frame.empty and line.note == "no prices of AMZN"
    assert market.stock_line(reader, "AMZN", FIRST, LAST, "price").frame.empty


def test_without_events_the_event_queries_are_empty(reader):
    assert market.event_markers(reader, FIRST, LAST, PAIRS).empty
    changes = market.event_share_changes(reader, "USD", tickers=PAIRS)
    assert changes.empty and "car_m1_p1" in changes.columns


def test_event_markers_name_each_provider_once(with_events):
    markers = market.event_markers(with_events, FIRST, LAST, PAIRS)
    assert markers[["event_id", "provider"]].values.tolist() == [
        ["ev-msft", "Microsoft"], ["ev-tpu", "Google Cloud"], ["ev-cw", "CoreWeave"]]  # MSFT through its ticker
    assert markers["headline"][1] == "Acme signs a TPU capacity deal with Google"
    assert markers["source_url"][2] == "https://example.com/ev-cw"
    assert market.event_markers(with_events, date(2025, 5, 2), LAST, PAIRS)["event_id"].tolist() == ["ev-cw"]


def share(provider: str, first: date, last: date) -> float:
    return float(expected(first, last, providers=(provider,)) / expected(first, last))


def test_share_changes_around_each_event(with_events):
    changes = market.event_share_changes(with_events, "USD", "effective", 7, PAIRS, "SPY")
    assert changes[["event_id", "provider", "ticker"]].values.tolist() == [
        ["ev-msft", "Microsoft", "MSFT"], ["ev-tpu", "Google Cloud", "GOOGL"], ["ev-cw", "CoreWeave", "CRWV"]]
    tpu = changes.set_index("event_id").loc["ev-tpu"]
    assert tpu["date"] == date(2025, 5, 1)
    assert tpu["share_before_30d"] == pytest.approx(share("Google Cloud", date(2025, 4, 1), date(2025, 4, 30)))
    assert tpu["share_after_30d"] == pytest.approx(share("Google Cloud", date(2025, 5, 1), date(2025, 5, 30)))
    assert tpu["change_30d_pp"] == pytest.approx((tpu["share_after_30d"] - tpu["share_before_30d"]) * 100)
    assert tpu["share_before_90d"] == pytest.approx(share("Google Cloud", date(2025, 1, 31), date(2025, 4, 30)))
    assert tpu["share_after_90d"] == pytest.approx(share("Google Cloud", date(2025, 5, 1), date(2025, 7, 29)))
    assert (bool(tpu["complete_30d"]), bool(tpu["complete_90d"])) == (True, False)
    cw = changes.set_index("event_id").loc["ev-cw"]
    assert not cw["complete_30d"]  # 30 days from 2025-06-02 run past the last loaded day
    assert cw["share_after_30d"] == pytest.approx(share("CoreWeave", date(2025, 6, 2), LAST))


def independent_car(ticker: str, day0: str) -> float:
    """CAR[-1,+1] of the market model fitted over sessions [-250, -11], in plain numpy."""
    r, m = stored(ticker).pct_change(), stored("SPY").pct_change()
    pos = int(np.searchsorted(r.index, pd.Timestamp(day0)))
    est = slice(pos - 250, pos - 10)
    ok = r.iloc[est].notna() & m.iloc[est].notna()
    beta, alpha = np.polyfit(m.iloc[est][ok], r.iloc[est][ok], 1)
    window = slice(pos - 1, pos + 2)
    return float((r.iloc[window] - alpha - beta * m.iloc[window]).sum())


def test_cars_are_computed_when_the_event_study_has_not_run(with_events):
    changes = market.event_share_changes(with_events, "USD", tickers=PAIRS).set_index("event_id")
    assert set(changes["car_source"]) == {"computed"}
    assert changes.loc["ev-tpu", "car_m1_p1"] == pytest.approx(independent_car("GOOGL", "2025-05-01"))
    assert changes.loc["ev-cw", "car_m1_p1"] == pytest.approx(independent_car("CRWV", "2025-06-03"))
    assert changes.loc["ev-cw", "car_note"] == "market model vs SPY, day 0 2025-06-03"


def test_stored_event_study_results_are_preferred(with_events, spend_db):
    with Warehouse(spend_db).write("results") as session:
        con = session.con
        con.execute("""INSERT INTO event_study_results BY NAME
                       SELECT 'ev-tpu' AS event_id, 'GOOGL' AS ticker, benchmark, model, 'simple' AS returns_kind,
                              w AS "window", car, DATE '2025-04-30' AS window_start, DATE '2025-05-02' AS window_end,
                              3 AS days, '' AS stars, DATE '2024-05-01' AS estimation_start,
                              DATE '2025-04-15' AS estimation_end, 240 AS T, -1 AS start_day, 1 AS end_day,
                              DATE '2025-05-01' AS day0, 1 AS run_id
                       FROM (VALUES ('QQQ', 'market', '[-1,+1]', 0.5), ('SPY', 'market_adjusted', '[-1,+1]', 0.2),
                                    ('SPY', 'market', '[-1,+1]', 0.1234), ('SPY', 'market', '[0,0]', 0.9))
                            AS t(benchmark, model, w, car)""")
    changes = market.event_share_changes(with_events, "USD", tickers=PAIRS).set_index("event_id")
    assert changes.loc["ev-tpu", ["car_m1_p1", "car_source", "car_note"]].tolist() == [
        0.1234, "event_study_results", "market model, simple returns, vs SPY"]
    assert changes.loc["ev-cw", "car_source"] == "computed"  # no stored result for it


def test_a_pair_the_event_study_excluded_keeps_its_stored_reason(with_events, spend_db):
    with Warehouse(spend_db).write("exclusions") as session:
        con = session.con
        con.execute("""INSERT INTO event_study_exclusions VALUES
                       ('ev-cw', 'CRWV', 'SPY', 'market', 'only 40 sessions in the estimation window (minimum 60)',
                        'simple', 1),
                       ('ev-tpu', 'GOOGL', 'QQQ', 'market', 'no QQQ prices', 'simple', 1)""")
    changes = market.event_share_changes(with_events, "USD", tickers=PAIRS).set_index("event_id")
    assert changes.loc["ev-cw", ["car_source", "car_note"]].tolist() == [
        "event_study_exclusions",
        "excluded (market model, simple returns, vs SPY): only 40 sessions in the estimation window (minimum 60)"]
    assert np.isnan(changes.loc["ev-cw", "car_m1_p1"])  # not recomputed over the engine's decision
    # an exclusion against another benchmark does not stand for the configured one: computed against SPY
    assert changes.loc["ev-tpu", "car_source"] == "computed"
    assert changes.loc["ev-tpu", "car_m1_p1"] == pytest.approx(independent_car("GOOGL", "2025-05-01"))


def test_a_car_without_prices_says_why(with_events):
    cars = market.event_cars(with_events, (("ev-tpu", "AMZN"),), "SPY")
    assert cars["car_source"].tolist() == ["computed"]
    assert cars["car_note"][0].startswith("no adjusted closes for AMZN in the warehouse (table prices)")
    assert np.isnan(cars["car_m1_p1"][0])


