"""Spend anomalies on planted series in a real warehouse: a spike and a level shift are found, a weekly pattern with
weekend dips is not; days without an exchange rate are never scored; billing and reporting bases; the stored run."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.finops import anomalies
from etl.finops.anomalies import AnomalySettings, detect
from etl.warehouse import Warehouse, connect_readonly

FIRST = date(2025, 1, 1)
DAYS = 140
LAST = FIRST + timedelta(days=DAYS - 1)
SPIKE = date(2025, 5, 10)  # a Saturday, on the weekend dip
SHIFT = date(2025, 5, 1)  # +50 % from this day on
EUR_SPIKE = date(2025, 5, 5)
NO_RATE = date(2025, 5, 12)  # EUR has no rate within 7 days of this day (and a spike the reporting basis must skip)
SETTINGS = AnomalySettings(recent_days=30)  # the window 2025-04-21..2025-05-20 holds every planted day


def _weekly(seed: int, base: float) -> np.ndarray:
    """``base`` on weekdays, 55 % of it on weekends, a slow upward trend and ±2 % noise."""
    rng = np.random.default_rng(seed)
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    weekly = np.array([0.55 if day.weekday() >= 5 else 1.0 for day in days])
    trend = 1 + 0.001 * np.arange(DAYS)
    return base * weekly * trend * (1 + rng.uniform(-0.02, 0.02, DAYS))


def _planted() -> pd.DataFrame:
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    spiky, shifted, steady, euro = _weekly(1, 1000), _weekly(2, 2000), _weekly(3, 1500), _weekly(4, 800)
    spiky[days.index(SPIKE)] *= 2.5
    shifted[days.index(SHIFT):] *= 1.5
    euro[days.index(EUR_SPIKE)] *= 2.0
    euro[days.index(NO_RATE)] *= 2.0
    rows = [("AWS", "a1", "USD", "Spiky", spiky), ("AWS", "a1", "USD", "Shifted", shifted),
            ("AWS", "a1", "USD", "Steady", steady), ("Microsoft", "m1", "EUR", "Euro VMs", euro)]
    frame = pd.concat([pd.DataFrame({"date": days, "provider": p, "account": a, "currency": c, "service": s,
                                     "amount": values}) for p, a, c, s, values in rows])
    short = pd.DataFrame({"date": days[-20:], "provider": "AWS", "account": "a1", "currency": "USD",
                          "service": "New", "amount": 500.0})  # 20 days of history: skipped
    return pd.concat([frame, short], ignore_index=True)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    store = Warehouse(tmp_path / "w.duckdb")
    rates = pd.DataFrame({"date": [FIRST + timedelta(days=i) for i in range(DAYS)]})
    rates = rates[(rates["date"] < NO_RATE - timedelta(days=9)) | (rates["date"] > NO_RATE)]
    with store.write("test") as session, session.transaction() as con:
        con.register("planted", _planted())
        con.execute("""INSERT INTO daily_spend_rollup
            SELECT date, provider, account, 'Acme ' || provider, NULL, NULL, 'Compute', service, 'Usage', currency,
                   amount, amount, amount, 1, NULL FROM planted""")
        con.register("rates", rates)
        con.execute("INSERT INTO fx_rates SELECT date, 'EUR', 'USD', 1.25, 'test', 1, now() FROM rates")
    return store


@pytest.fixture
def found(warehouse: Warehouse) -> anomalies.Detection:
    con = connect_readonly(warehouse.path)
    try:
        return detect(con, "USD", SETTINGS)
    finally:
        con.close()


def _of(frame: pd.DataFrame, **keys: str) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in keys.items():
        mask &= (frame[key] == value).to_numpy()
    return frame[mask]


def test_the_planted_spike_is_found_with_its_expected_value_and_severity(found) -> None:
    spike = _of(found.anomalies, level="service", member="Spiky")
    assert list(spike["date"]) == [SPIKE]
    [row] = spike.itertuples()
    # a Saturday: expected is the weekend level (~ 55 % of ~1,130), not the weekday one
    planted = _planted()
    [actual] = planted.loc[(planted["service"] == "Spiky") & (planted["date"] == SPIKE), "amount"]
    assert 560 < row.expected < 690 and row.actual == pytest.approx(actual)
    assert row.excess_pct == pytest.approx(100 * (row.actual - row.expected) / row.expected)
    assert 120 < row.excess_pct < 190 and row.excess == pytest.approx(row.actual - row.upper)
    assert row.lower < row.expected < row.upper and row.severity == "high" and row.z > 8
    assert row.method == anomalies.METHOD and row.basis == "reporting" and row.currency == "USD"


def test_the_level_shift_is_found_on_its_first_days(found) -> None:
    shift = _of(found.anomalies, level="service", member="Shifted")
    assert SHIFT in set(shift["date"])
    assert shift["date"].min() == SHIFT and (shift["excess"] > 0).all()  # not the days before, below the trend
    assert shift["date"].max() < SHIFT + timedelta(days=21)  # the trend follows the new level within weeks


def test_a_weekly_pattern_with_weekend_dips_is_not_flagged(found) -> None:
    assert _of(found.anomalies, member="Steady").empty
    assert found.series_scored > 0 and found.days_scored > 0


def test_a_day_without_a_rate_is_not_scored_in_the_reporting_basis_but_is_in_the_billing_one(found) -> None:
    # Microsoft's one service and one account are the provider's numbers: found once, at the provider
    assert _of(found.anomalies, provider="Microsoft", level="service").empty
    assert _of(found.anomalies, provider="Microsoft", level="account").empty
    euro = _of(found.anomalies, provider="Microsoft", level="provider")
    billing, reporting = _of(euro, basis="billing"), _of(euro, basis="reporting")
    assert list(billing["date"]) == [EUR_SPIKE, NO_RATE] and set(billing["currency"]) == {"EUR"}
    assert list(reporting["date"]) == [EUR_SPIKE] and set(reporting["currency"]) == {"USD"}
    eur, usd = billing.iloc[0], reporting.iloc[0]
    assert usd["actual"] == pytest.approx(1.25 * eur["actual"])
    assert usd["excess_pct"] == pytest.approx(eur["excess_pct"], abs=5)


def test_short_series_are_skipped_and_counted(found) -> None:
    # New (service, 20 days) in one basis; every other series has 140 days
    assert found.series_skipped == 1 and _of(found.anomalies, member="New").empty
    assert found.window_start == LAST - timedelta(days=29) and found.data_until == LAST


def test_small_excess_in_money_or_percent_is_not_an_anomaly(warehouse) -> None:
    con = connect_readonly(warehouse.path)
    try:
        strict = detect(con, "USD", AnomalySettings(recent_days=30, min_excess=2000))
        relative = detect(con, "USD", AnomalySettings(recent_days=30, min_excess_pct=200))
    finally:
        con.close()
    assert _of(strict.anomalies, member="Spiky").empty  # the spike is ~1,000 over its interval
    assert relative.anomalies.empty  # no planted change is +200 %


def test_a_run_stores_the_window_and_keeps_older_anomalies(warehouse) -> None:
    with warehouse.write("anomalies") as session:
        first = anomalies.run(session, "USD", AnomalySettings(recent_days=120))
        second = anomalies.run(session, "USD", SETTINGS)
    con = connect_readonly(warehouse.path)
    try:
        stored = con.execute("SELECT * FROM spend_anomalies ORDER BY date").df()
        stored["date"] = stored["date"].dt.date
        runs = con.execute("SELECT run_id, window_start, data_until, series_scored, series_skipped, days_scored, "
                           "anomalies, high, measure, reporting_currency, z FROM anomaly_runs ORDER BY run_id").df()
    finally:
        con.close()
    assert (first.run_id, second.run_id) == (1, 2)
    recent = stored[stored["date"] >= second.detection.window_start]
    assert len(recent) == len(second.detection.anomalies) and set(recent["run_id"]) == {2}
    older = stored[stored["date"] < second.detection.window_start]
    assert set(older["run_id"]) <= {1}
    assert len(older) == int((first.detection.anomalies["date"] < second.detection.window_start).sum())
    assert list(runs["anomalies"]) == [len(first.detection.anomalies), len(second.detection.anomalies)]
    last = runs.iloc[1]
    assert (last["window_start"].date(), last["data_until"].date()) == (LAST - timedelta(days=29), LAST)
    assert last["series_skipped"] == 1 and last["measure"] == "effective_cost" and list(last["z"]) == [3, 5, 8]
    assert anomalies.summary(second).startswith(f"run 2: {len(second.detection.anomalies)} anomalies (")


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"anomalies\.z"):
        AnomalySettings(z=(5.0, 3.0, 8.0))
    with pytest.raises(ValueError, match=r"anomalies\.measure"):
        AnomalySettings(measure="cost")
    with pytest.raises(ValueError, match="min_history_days"):
        AnomalySettings(min_history_days=7)
