"""dashboard.services.event_study: the Event study page's study under the ``eventstudy.*`` settings, its CAR
paths with bands and the media comparison, on the fixture warehouse's prices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.queries.events import event_details
from dashboard.queries.reader import Reader
from dashboard.services import event_study
from dashboard.services.settings import StudyConfig
from etl.config import load_config
from etl.warehouse import Warehouse
from tests.dashboard import builders


@pytest.fixture
def reader(spend_db) -> Reader:
    builders.create_study_events(Warehouse(spend_db))
    return Reader(spend_db)


def returns(ticker: str) -> pd.Series:
    return builders.stored_prices(ticker).set_index("date")["adj_close"].pct_change()


def test_the_study_uses_the_settings_unless_a_choice_overrides_them(reader, study):
    tables = event_study.study(reader, ("ev-tpu", "ev-early"), config=study)
    assert tables.pairs[["event_id", "ticker", "benchmark", "status"]].values.tolist() == [
        ["ev-tpu", "GOOGL", "SPY", "computed"], ["ev-tpu", "MSFT", "SPY", "computed"],
        ["ev-early", "GOOGL", "SPY", "excluded"]]
    assert "minimum 60" in tables.pairs["reason"][2]
    assert sorted(tables.results["window"].unique()) == ["[-1,+1]", "[-5,+5]", "[0,+1]", "[0,0]"]
    chosen = event_study.study(reader, ("ev-tpu",), tickers=("GOOGL",), benchmark="MSFT", model="market_adjusted",
                               windows="0:1", config=study)
    [car] = chosen.results["car"]
    assert car == pytest.approx(float((returns("GOOGL") - returns("MSFT")).loc["2025-05-01":"2025-05-02"].sum()))


def test_the_estimation_min_obs_and_benchmarks_settings(reader, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "-15:-2")
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__MIN_OBS", "10")
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__BENCHMARKS", "XNAS=MSFT")
    config = StudyConfig.from_config(load_config())
    tables = event_study.study(reader, ("ev-early",), config=config)
    assert tables.pairs[["ticker", "benchmark", "status"]].values.tolist() == [["GOOGL", "MSFT", "computed"]]
    assert tables.results["T"].unique().tolist() == [14]  # sessions -15..-2 of 2024-02-01, all with returns


def test_car_bands_widen_with_the_days_cumulated(reader, study):
    tables = event_study.study(reader, ("ev-tpu",), config=study)
    paths = event_study.car_paths(tables)
    assert paths.columns.tolist() == event_study.PATH_COLUMNS
    googl = paths[paths["ticker"] == "GOOGL"]
    assert googl["relative_day"].tolist() == list(range(-10, 11))
    half = (googl["upper"] - googl["car"]).to_numpy()
    s = tables.results.query("ticker == 'GOOGL'")["s"].iloc[0]
    assert half == pytest.approx(1.959963984540054 * s * np.sqrt(np.arange(1, 22)))
    assert (googl["car"] - googl["lower"]).to_numpy() == pytest.approx(half)
    assert event_study.car_paths(event_study.study(reader, ("ev-early",), config=study)).empty


def test_a_media_figure_is_compared_with_the_close_to_close_move_of_day_0(reader, study):
    events = event_details(reader, ("ev-tpu",))
    media = event_study.media_comparison(events, event_study.study(reader, ("ev-tpu",), config=study))
    day0 = returns("GOOGL").loc["2025-05-01"]
    assert media[["event_id", "ticker", "reported", "differs"]].values.tolist() == [["ev-tpu", "GOOGL", 0.05, True]]
    assert media["close_to_close"][0] == pytest.approx(day0) and media["day0"][0] == pd.Timestamp("2025-05-01")
    logs = event_study.media_comparison(events, event_study.study(reader, ("ev-tpu",), returns_kind="log",
                                                                  config=study))
    assert logs["close_to_close"][0] == pytest.approx(day0)  # a log return is shown as the simple one
    assert math.isclose(logs["close_to_close"][0], media["close_to_close"][0], rel_tol=1e-12)


def test_a_media_figure_is_never_set_beside_a_synthetic_move(reader, study):
    events = event_details(reader, ("ev-tpu",))
    tables = event_study.study(reader, ("ev-tpu",), config=study)
    media = event_study.media_comparison(events, tables, synthetic=("googl", "SPY"))
    assert media[["ticker", "reported", "day0", "differs", "synthetic"]].values.tolist() == [
        ["GOOGL", 0.05, pd.Timestamp("2025-05-01"), False, True]]
    assert math.isnan(media["close_to_close"][0])
    real = event_study.media_comparison(events, tables, synthetic=("MSFT",))  # another ticker's: compared as ever
    assert real[["differs", "synthetic"]].values.tolist() == [[True, False]]
    assert real["close_to_close"][0] == pytest.approx(returns("GOOGL").loc["2025-05-01"])
