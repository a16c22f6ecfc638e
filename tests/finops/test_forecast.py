"""Month- and quarter-end forecasts on series whose future is known, and the backtest's MAPE by hand."""

from __future__ import annotations

from datetime import date

import pytest

from etl.finops.forecast import ForecastSettings, compute, periods, store
from etl.warehouse import connect_readonly
from tests.finops.spend import daily, seasonal, warehouse

WEEKLY = (40.0, 45.0, 42.0, 44.0, 38.0, -90.0, -100.0)  # weekdays busy, weekends quiet


def _forecasts(path, *frames, months: int = 0):
    con = connect_readonly(warehouse(path, *frames).path)
    try:
        return compute(con, ForecastSettings("USD", backtest_months=months))
    finally:
        con.close()


def test_periods_are_the_month_and_quarter_after_the_as_of_date() -> None:
    assert periods(date(2025, 11, 14)) == {"month": (date(2025, 11, 1), date(2025, 11, 30)),
                                           "quarter": (date(2025, 10, 1), date(2025, 12, 31))}
    # the last day of a month: the month in progress is the next one
    assert periods(date(2025, 12, 31)) == {"month": (date(2026, 1, 1), date(2026, 1, 31)),
                                           "quarter": (date(2026, 1, 1), date(2026, 3, 31))}


def test_trend_and_weekly_season_the_month_end_falls_in_the_intervals(tmp_path) -> None:
    amount = seasonal(1000.0, 2.0, WEEKLY, noise=15.0)
    history = daily(date(2025, 1, 1), date(2025, 11, 15), amount)  # 11-15 is the partial last day
    future = daily(date(2025, 1, 1), date(2025, 12, 31), amount)  # the same draws, to the quarter's end
    forecasts = _forecasts(tmp_path / "w.duckdb", history)
    rows = forecasts.totals[forecasts.totals["level"] == "provider"].set_index("period")
    month, quarter = rows.loc["month"], rows.loc["quarter"]
    assert (month["as_of"], month["period_start"], month["period_end"]) == (
        date(2025, 11, 14), date(2025, 11, 1), date(2025, 11, 30))
    spend = future.set_index("date")["effective_cost"]
    assert month["actual_to_date"] == pytest.approx(spend[date(2025, 11, 1):date(2025, 11, 14)].sum())
    true_month = spend[date(2025, 11, 1):date(2025, 11, 30)].sum()
    true_quarter = spend[date(2025, 10, 1):date(2025, 12, 31)].sum()
    assert month["lower_95"] < true_month < month["upper_95"]
    assert quarter["lower_95"] < true_quarter < quarter["upper_95"]
    assert month["forecast_total"] == pytest.approx(true_month, rel=0.01)
    for row in (month, quarter):  # 95 % contains 80 %, which contains the forecast
        assert row["lower_95"] < row["lower_80"] < row["forecast_total"] < row["upper_80"] < row["upper_95"]
        assert row["forecast_total"] == pytest.approx(row["actual_to_date"] + row["forecast_remaining"])
    # the daily path: from the partial day to the quarter's end, the weekly pattern kept (Saturdays low)
    path = forecasts.paths[forecasts.paths["level"] == "provider"].set_index("date")
    assert (path.index.min(), path.index.max()) == (date(2025, 11, 15), date(2025, 12, 31))
    assert path.loc[date(2025, 11, 15), "mean"] < path.loc[date(2025, 11, 17), "mean"] - 100  # Sat vs Mon
    assert ((path["lower_95"] <= path["lower_80"]) & (path["upper_80"] <= path["upper_95"])).all()
    # one provider billed in the reporting currency: its total and provider series, no billing twin
    assert sorted(set(zip(forecasts.totals["level"], forecasts.totals["basis"], strict=True))) == [
        ("provider", "reporting"), ("total", "reporting")]


def test_a_flat_series_gives_a_flat_forecast(tmp_path) -> None:
    forecasts = _forecasts(tmp_path / "w.duckdb", daily(date(2025, 1, 1), date(2025, 6, 10), 100.0))
    month = forecasts.totals.set_index(["level", "period"]).loc[("total", "month")]
    assert month["forecast_total"] == pytest.approx(3000.0)
    assert month["lower_95"] == pytest.approx(3000.0) and month["upper_95"] == pytest.approx(3000.0)
    assert forecasts.paths["mean"].to_numpy() == pytest.approx(100.0)


def test_a_short_series_is_skipped_with_its_reason(tmp_path) -> None:
    forecasts = _forecasts(tmp_path / "w.duckdb", daily(date(2025, 6, 1), date(2025, 6, 20), 100.0))
    assert forecasts.totals.empty
    assert forecasts.skipped == ["provider/reporting/USD/AWS: fewer than 28 complete days",
                                 "total/reporting/USD: fewer than 28 complete days"]


def test_backtest_mape_by_hand(tmp_path) -> None:
    # 100 a day to March, 130 a day in April; May 1 is the partial last day. Each month is forecast from the flat
    # data before it: March 31 x 100 = 3,100 (actual 3,100: 0 %); April 30 x 100 = 3,000 (actual 3,900: 23.08 %).
    spend = daily(date(2025, 1, 1), date(2025, 5, 1), lambda i, day: 130.0 if day.month >= 4 else 100.0)
    wh = warehouse(tmp_path / "w.duckdb", spend)
    con = connect_readonly(wh.path)
    try:
        forecasts = compute(con, ForecastSettings("USD", backtest_months=6))
    finally:
        con.close()
    rows = forecasts.backtests[forecasts.backtests["level"] == "total"]
    # February has only 31 days of history before it (fewer than 56): the backtest starts in March
    assert list(rows["origin"]) == [date(2025, 3, 1), date(2025, 4, 1)]
    assert list(rows["forecast"]) == pytest.approx([3100.0, 3000.0])
    assert list(rows["actual"]) == pytest.approx([3100.0, 3900.0])
    assert list(rows["ape"]) == pytest.approx([0.0, 900 / 3900], abs=1e-9)
    # stored, the view gives the MAPE: (0 + 23.08) / 2
    with wh.write("test") as session:
        store(session, forecasts)
    con = connect_readonly(wh.path)
    try:
        assert con.execute("SELECT level, months, round(mape_pct, 2) FROM forecast_accuracy ORDER BY level"
                           ).fetchall() == [("provider", 2, 11.54), ("total", 2, 11.54)]
    finally:
        con.close()
