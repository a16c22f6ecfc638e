"""dashboard.services.event_spend: each event's change in a provider's share of our spend next to its CAR[-1,+1],
stored by ``eventstudy run`` or computed with the ``eventstudy.*`` settings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.queries.reader import Reader
from dashboard.services import event_spend
from dashboard.services.event_spend import CAR_WINDOW
from dashboard.services.event_study import run_study
from dashboard.services.settings import StudyConfig
from etl.config import load_config
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.builders import LAST, expected
from tests.dashboard.test_event_queries import insert_results

PAIRS = tuple(sorted(builders.TICKERS.items()))


@pytest.fixture
def reader(spend_db) -> Reader:
    builders.create_events(Warehouse(spend_db))
    return Reader(spend_db)


def stored(ticker: str) -> pd.Series:
    return builders.stored_prices(ticker).set_index("date")["adj_close"]


def share(provider: str, first: date, last: date) -> float:
    return float(expected(first, last, providers=(provider,)) / expected(first, last))


def independent_car(ticker: str, day0: str, estimation: slice = slice(-250, -10)) -> float:
    """CAR[-1,+1] of the market model fitted over the sessions ``estimation`` around day 0, in plain numpy."""
    r, m = stored(ticker).pct_change(), stored("SPY").pct_change()
    pos = int(np.searchsorted(r.index, pd.Timestamp(day0)))
    est = slice(pos + estimation.start, pos + estimation.stop)
    ok = r.iloc[est].notna() & m.iloc[est].notna()
    beta, alpha = np.polyfit(m.iloc[est][ok], r.iloc[est][ok], 1)
    window = slice(pos - 1, pos + 2)
    return float((r.iloc[window] - alpha - beta * m.iloc[window]).sum())


def test_without_events_the_share_changes_are_empty(spend_db, study):
    changes = event_spend.event_share_changes(Reader(spend_db), "USD", tickers=PAIRS, study=study)
    assert changes.empty and changes.columns.tolist() == event_spend.share_change_columns((30, 90))


def test_share_changes_around_each_event(reader, study):
    changes = event_spend.event_share_changes(reader, "USD", "effective", 7, PAIRS, "SPY", study=study)
    assert changes.columns.tolist() == event_spend.share_change_columns((30, 90))
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


def test_cars_are_computed_when_the_event_study_has_not_run(reader, study):
    changes = event_spend.event_share_changes(reader, "USD", tickers=PAIRS, study=study).set_index("event_id")
    assert set(changes["car_source"]) == {"computed"}
    assert changes.loc["ev-tpu", "car_m1_p1"] == pytest.approx(independent_car("GOOGL", "2025-05-01"))
    assert changes.loc["ev-cw", "car_m1_p1"] == pytest.approx(independent_car("CRWV", "2025-06-03"))
    assert changes.loc["ev-cw", "car_note"] == "market model vs SPY, day 0 2025-06-03"
    # the p-value and stars of the time-series t test, as the engine gives them for the same pair
    tables = run_study(reader, ("ev-cw",), study.settings(windows=(CAR_WINDOW,), benchmark="SPY", tickers=("CRWV",)))
    [result] = tables.results.itertuples()
    assert changes.loc["ev-cw", "car_m1_p1_p"] == pytest.approx(result.car_t_p)
    assert changes.loc["ev-cw", "car_m1_p1_stars"] == result.stars
    assert 0 < result.car_t_p < 1


def test_computed_cars_follow_the_eventstudy_settings(reader, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "-120:-6")
    narrow = StudyConfig.from_config(load_config())
    cars = event_spend.event_cars(reader, (("ev-tpu", "GOOGL"),), "SPY", study=narrow)
    assert cars["car_m1_p1"][0] == pytest.approx(independent_car("GOOGL", "2025-05-01", slice(-120, -5)))
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__MODEL", "market_adjusted")
    adjusted = StudyConfig.from_config(load_config())
    cars = event_spend.event_cars(reader, (("ev-tpu", "GOOGL"),), "SPY", study=adjusted)
    r, m = stored("GOOGL").pct_change(), stored("SPY").pct_change()
    assert cars["car_m1_p1"][0] == pytest.approx(float((r - m).loc["2025-04-30":"2025-05-02"].sum()))
    assert cars["car_note"][0] == "market-adjusted vs SPY, day 0 2025-05-01"
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__MIN_OBS", "200")
    strict = StudyConfig.from_config(load_config())
    cars = event_spend.event_cars(reader, (("ev-tpu", "GOOGL"),), "SPY", study=strict)
    assert np.isnan(cars["car_m1_p1"][0])
    assert "only 115 sessions" in cars["car_note"][0] and "(minimum 200)" in cars["car_note"][0]


def test_stored_event_study_results_are_preferred(reader, spend_db, study):
    insert_results(spend_db, "('ev-tpu', 'GOOGL', 'QQQ', 'market', 'simple', '[-1,+1]', 0.5), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market_adjusted', 'simple', '[-1,+1]', 0.2), "
                             "('ev-tpu', 'GOOGL', 'SPY', 'market', 'simple', '[-1,+1]', 0.1234)")
    changes = event_spend.event_share_changes(reader, "USD", tickers=PAIRS, study=study).set_index("event_id")
    shown = ["car_m1_p1", "car_m1_p1_p", "car_m1_p1_stars", "car_source", "car_note"]
    assert changes.loc["ev-tpu", shown].tolist() == [
        0.1234, 0.015425, "**", "event_study_results", "market model, simple returns, vs SPY"]
    assert changes.loc["ev-cw", "car_source"] == "computed"  # no stored result for it


def test_a_pair_the_event_study_excluded_keeps_its_stored_reason(reader, spend_db, study):
    builders.store_exclusions(Warehouse(spend_db))
    changes = event_spend.event_share_changes(reader, "USD", tickers=PAIRS, study=study).set_index("event_id")
    assert changes.loc["ev-cw", ["car_source", "car_note"]].tolist() == [
        "event_study_exclusions",
        "excluded (market model, simple returns, vs SPY): only 40 sessions in the estimation window (minimum 60)"]
    assert np.isnan(changes.loc["ev-cw", "car_m1_p1"])  # not recomputed over the engine's decision
    assert np.isnan(changes.loc["ev-cw", "car_m1_p1_p"]) and pd.isna(changes.loc["ev-cw", "car_m1_p1_stars"])
    # an exclusion against another benchmark does not stand for the configured one: computed against SPY
    assert changes.loc["ev-tpu", "car_source"] == "computed"
    assert changes.loc["ev-tpu", "car_m1_p1"] == pytest.approx(independent_car("GOOGL", "2025-05-01"))


def test_a_car_without_prices_says_why(reader, study):
    cars = event_spend.event_cars(reader, (("ev-tpu", "AMZN"),), "SPY", study=study)
    assert cars["car_source"].tolist() == ["computed"]
    assert cars["car_note"][0].startswith("no adjusted closes for AMZN in the warehouse (table prices)")
    assert np.isnan(cars["car_m1_p1"][0])
