"""dashboard.services.stock_lines: the stock lines of Spend vs market, and the settings their CAR follows.

The pure functions are tested on hand-made series; :func:`stock_line` on the fixture warehouse, against
numpy computations of the same lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.queries.reader import Reader
from dashboard.services import stock_lines
from etl.eventstudy.settings import parse_estimation
from etl.eventstudy.windows import OffsetWindow
from tests.dashboard import builders
from tests.dashboard.builders import FIRST, LAST


@pytest.fixture
def reader(spend_db) -> Reader:
    return Reader(spend_db)


def stored(ticker: str) -> pd.Series:
    return builders.stored_prices(ticker).set_index("date")["adj_close"]


def market_model_car(ticker: str, start: date, end: date, rows: slice) -> tuple[pd.Series, float]:
    """The CAR line of the market model fitted over the sessions ``rows`` (positions), in plain numpy."""
    r, m = stored(ticker).pct_change(), stored("SPY").pct_change()
    first = int(np.searchsorted(r.index, pd.Timestamp(start)))
    est = slice(first + rows.start, first + rows.stop)
    beta, alpha = np.polyfit(m.iloc[est], r.iloc[est], 1)
    ar = (r - alpha - beta * m).iloc[first:]
    ar = ar[ar.index <= pd.Timestamp(end)]
    ar.iloc[0] = 0.0
    return ar.cumsum() * 100, beta


# --- pure functions ---------------------------------------------------------------------------------------------

SESSIONS = pd.bdate_range("2025-01-01", periods=40)


def test_estimation_rows_by_offsets_stop_before_the_first_session():
    rows = stock_lines.estimation_rows(SESSIONS, 30, OffsetWindow(-20, -6))
    assert np.flatnonzero(rows).tolist() == list(range(10, 25))
    assert np.flatnonzero(stock_lines.estimation_rows(SESSIONS, 30, OffsetWindow(-5, 3))).tolist() == [25, 26, 27,
                                                                                                        28, 29]
    assert np.flatnonzero(stock_lines.estimation_rows(SESSIONS, 3, OffsetWindow(-20, -1))).tolist() == [0, 1, 2]


def test_estimation_rows_by_dates_are_the_sessions_of_the_period_before_the_start():
    window = parse_estimation("2025-01-06:2025-01-10")
    assert SESSIONS[stock_lines.estimation_rows(SESSIONS, 30, window)].strftime("%d").tolist() == [
        "06", "07", "08", "09", "10"]
    assert not stock_lines.estimation_rows(SESSIONS, 2, window).any()  # the period is not before the start
    overlapping = parse_estimation("2025-02-11:2025-03-31")  # sessions 29 to 39: only session 29 is before 30
    assert np.flatnonzero(stock_lines.estimation_rows(SESSIONS, 30, overlapping)).tolist() == [29]


def test_cumulative_abnormal_return_of_a_firm_that_is_exactly_its_market_model(study):
    rng = np.random.default_rng(3)
    market = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, 40)), index=SESSIONS)
    bench_returns = market.pct_change()
    firm_returns = 0.001 + 1.5 * bench_returns
    firm_returns.iloc[35] += 0.05  # one abnormal session after the start
    firm = 50 * (1 + firm_returns.fillna(0)).cumprod()
    settings = replace(study, estimation=OffsetWindow(-25, -1), min_obs=20)
    car, note = stock_lines.cumulative_abnormal_return(firm, market, SESSIONS[30].date(), "market", settings)
    assert car.index[0] == SESSIONS[30] and car.iloc[0] == 0.0
    assert car.tolist() == pytest.approx([0.0] * 5 + [0.05] * 5, abs=1e-12)
    assert "fitted over 25 sessions" in note and "β = 1.500" in note and "R² = 1.00" in note
    adjusted, note = stock_lines.cumulative_abnormal_return(firm, market, SESSIONS[30].date(), "market_adjusted",
                                                            settings)
    expected_ar = (firm_returns - bench_returns).iloc[31:]
    assert adjusted.iloc[1:].tolist() == pytest.approx(expected_ar.cumsum().tolist())
    assert note == "market-adjusted: AR = R − R_benchmark"


def test_too_few_estimation_sessions_fall_back_to_market_adjusted(study):
    market = pd.Series(np.linspace(100, 140, 40), index=SESSIONS)
    firm = pd.Series(np.linspace(50, 60, 40), index=SESSIONS)
    settings = replace(study, estimation=OffsetWindow(-25, -1), min_obs=26)
    car, note = stock_lines.cumulative_abnormal_return(firm, market, SESSIONS[30].date(), "market", settings)
    adjusted, _ = stock_lines.cumulative_abnormal_return(firm, market, SESSIONS[30].date(), "market_adjusted", study)
    assert car.tolist() == pytest.approx(adjusted.tolist())
    assert note.startswith("market model not fitted: only 25 sessions with both returns in the estimation window "
                           "[-25,-1]") and "(minimum 26, `eventstudy.min_obs`)" in note


# --- lines from the warehouse -------------------------------------------------------------------------------------

def test_the_price_view_is_the_raw_close(reader, study):
    line = stock_lines.stock_line(reader, "MSFT", FIRST, LAST, "price", study=study)
    frame = builders.stored_prices("MSFT")
    inside = frame[(frame["date"] >= pd.Timestamp(FIRST)) & (frame["date"] <= pd.Timestamp(LAST))]
    assert line.frame["value"].tolist() == pytest.approx(inside["close"].tolist())
    assert (line.unit, line.label) == ("USD", "MSFT close")


def test_the_return_view_is_the_total_return_from_the_start(reader, study):
    line = stock_lines.stock_line(reader, "MSFT", FIRST, LAST, "return", study=study)
    adj = stored("MSFT").loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    assert line.frame["value"].tolist() == pytest.approx(((adj / adj.iloc[0] - 1) * 100).tolist())
    close = builders.stored_prices("MSFT").set_index("date")["close"].loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    # the dividend of 2025-05-15 makes the total return differ from the price return
    assert line.frame["value"].iloc[-1] != pytest.approx(float((close.iloc[-1] / close.iloc[0] - 1) * 100))
    assert line.unit == "%"


def test_market_adjusted_car_is_the_sum_of_return_differences(reader, study):
    line = stock_lines.stock_line(reader, "GOOGL", FIRST, LAST, "car", "SPY", "market_adjusted", study=study)
    firm, bench = stored("GOOGL"), stored("SPY")
    ar = (firm.pct_change() - bench.pct_change()).loc[pd.Timestamp(FIRST):pd.Timestamp(LAST)]
    ar.iloc[0] = 0.0
    assert line.frame["value"].tolist() == pytest.approx((ar.cumsum() * 100).tolist())
    assert line.frame["date"].iloc[0] == pd.Timestamp("2025-03-03")  # the first session of the range
    assert line.label == "GOOGL CAR vs SPY" and "market-adjusted" in line.note


def test_the_market_model_is_fitted_over_the_estimation_setting_before_the_start(reader, study):
    line = stock_lines.stock_line(reader, "CRWV", FIRST, LAST, "car", "SPY", "market", study=study)
    car, beta = market_model_car("CRWV", FIRST, LAST, slice(-250, -10))  # the default [-250,-11]
    assert line.frame["value"].tolist() == pytest.approx(car.tolist())
    assert line.note.startswith("market model fitted over 240 sessions of the estimation window [-250,-11] "
                                "(setting `eventstudy.estimation`) before the start")
    assert f"β = {beta:.3f}" in line.note


def test_the_estimation_and_min_obs_settings_change_the_line(reader, monkeypatch):
    from dashboard.services.settings import StudyConfig
    from etl.config import load_config

    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "-120:-1")
    study = StudyConfig.from_config(load_config())
    line = stock_lines.stock_line(reader, "CRWV", FIRST, LAST, "car", "SPY", "market", study=study)
    car, _ = market_model_car("CRWV", FIRST, LAST, slice(-120, 0))
    assert line.frame["value"].tolist() == pytest.approx(car.tolist())
    assert "fitted over 120 sessions of the estimation window [-120,-1]" in line.note
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__MIN_OBS", "121")
    strict = StudyConfig.from_config(load_config())
    line = stock_lines.stock_line(reader, "CRWV", FIRST, LAST, "car", "SPY", "market", study=strict)
    assert line.note.startswith("market model not fitted: only 120 sessions")


def test_an_estimation_window_of_dates_fits_over_those_sessions_before_the_start(reader, monkeypatch):
    from dashboard.services.settings import StudyConfig
    from etl.config import load_config

    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "2024-06-03:2024-12-31")
    study = StudyConfig.from_config(load_config())
    line = stock_lines.stock_line(reader, "CRWV", FIRST, LAST, "car", "SPY", "market", study=study)
    sessions = stored("CRWV").index
    lo, hi = sessions.searchsorted(pd.Timestamp("2024-06-03")), sessions.searchsorted(pd.Timestamp("2025-01-01"))
    first = sessions.searchsorted(pd.Timestamp(FIRST))
    car, _ = market_model_car("CRWV", FIRST, LAST, slice(lo - first, hi - first))
    assert line.frame["value"].tolist() == pytest.approx(car.tolist())
    assert f"fitted over {hi - lo} sessions of the estimation window 2024-06-03..2024-12-31" in line.note
    # a range starting inside the period uses only its sessions before the start: the 19 of June 2024
    inside = stock_lines.stock_line(reader, "CRWV", date(2024, 7, 1), LAST, "car", "SPY", "market", study=study)
    assert inside.note.startswith("market model not fitted: only 19 sessions")


def test_too_short_a_history_falls_back_to_market_adjusted_with_a_note(reader, study):
    line = stock_lines.stock_line(reader, "GOOGL", date(2024, 2, 1), date(2024, 6, 28), "car", "SPY", "market",
                                  study=study)
    # 2024-02-01 is the 22nd session of the prices; [-250,-11] leaves sessions 1-11, 10 of them with returns
    assert line.note.startswith("market model not fitted: only 10 sessions")
    adjusted = stock_lines.stock_line(reader, "GOOGL", date(2024, 2, 1), date(2024, 6, 28), "car", "SPY", study=study)
    assert line.frame["value"].tolist() == pytest.approx(adjusted.frame["value"].tolist())


def test_a_ticker_without_prices_gives_an_empty_line(reader, study):
    line = stock_lines.stock_line(reader, "AMZN", FIRST, LAST, "car", "SPY", study=study)
    assert line.frame.empty and line.note == "no prices of AMZN"
    assert stock_lines.stock_line(reader, "AMZN", FIRST, LAST, "price", study=study).frame.empty


def test_an_unknown_view_or_model_is_refused(reader, study):
    with pytest.raises(ValueError, match="unknown view 'volume'"):
        stock_lines.stock_line(reader, "MSFT", FIRST, LAST, "volume", study=study)
    with pytest.raises(ValueError, match="unknown model 'constant_mean'"):
        stock_lines.stock_line(reader, "MSFT", FIRST, LAST, "car", "SPY", "constant_mean", study=study)
