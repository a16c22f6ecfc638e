"""The later additions to the battery: identities of the Kolari–Pynnönen corrections, GRANK on a tiny example
computed by hand (the one in docs/eventstudy.md), the BHAR t tests, Lamb, stars, one firm, and the migration that
gives existing warehouses their columns."""

from __future__ import annotations

import math
from fractions import Fraction

import duckdb
import numpy as np
import pandas as pd
import pytest
from es_cases import three_firms
from es_reference import grank_t, skewness_adjusted_t
from scipy import stats

from etl.eventstudy import statistics as st
from etl.eventstudy.engine import CAR_STATISTICS, CROSS_SECTIONAL, DAILY_STATISTICS, run_event_study
from etl.warehouse import Warehouse, connect_readonly, migrations

# docs/eventstudy.md, "GRANK": two firms, four estimation dates (B misses the third), SCAR_A = 2, SCAR_B = 1
TINY_SAR = np.array([[0.5, -0.3], [-1.0, 0.8], [1.5, np.nan], [-0.2, 1.1]])
TINY_SCAR = np.array([2.0, 1.0])


def test_grank_of_the_tiny_example_equals_the_fractions_worked_out_by_hand() -> None:
    # SCAR / SD(SCAR): 2/(1/sqrt 2) and 1/(1/sqrt 2) rank last for both firms. U = rank / (T_i + 1) - 1/2:
    # A (5 values, ranks 3 1 4 2 5): 0, -1/3, 1/6, -1/6, 1/3; B (4 values, ranks 1 2 - 3 4): -3/10, -1/10, -, 1/10, 3/10
    u_a = [Fraction(0), Fraction(-1, 3), Fraction(1, 6), Fraction(-1, 6), Fraction(1, 3)]
    u_b = [Fraction(-3, 10), Fraction(-1, 10), None, Fraction(1, 10), Fraction(3, 10)]
    total = Fraction(0)
    for a, b in zip(u_a, u_b, strict=True):
        present = [u for u in (a, b) if u is not None]
        total += Fraction(len(present), 2) * (sum(present) / len(present)) ** 2
    s_u2 = total / 5  # T = 4 estimation dates + the cumulative day
    u_0 = (u_a[-1] + u_b[-1]) / 2
    z2 = u_0**2 / s_u2
    assert (s_u2, u_0, z2) == (Fraction(133, 3600), Fraction(19, 60), Fraction(19, 7))
    t2 = z2 * 3 / (4 - z2)  # t^2 = Z^2 (T - 2) / (T - 1 - Z^2)
    assert t2 == Fraction(19, 3)
    stat, p = st.car_grank(TINY_SAR, TINY_SCAR)
    assert stat == pytest.approx(math.sqrt(19 / 3), rel=1e-14)
    assert p == pytest.approx(2 * stats.t.sf(math.sqrt(19 / 3), 3), rel=1e-12)
    # the loop-by-loop reference agrees, and GRANK is two-sided: flipping every sign flips t
    hand = grank_t([{0: 0.5, 1: -1.0, 2: 1.5, 3: -0.2}, {0: -0.3, 1: 0.8, 3: 1.1}], [2.0, 1.0])
    assert hand == pytest.approx((float(stat), float(p)), rel=1e-12)
    flipped, p_flipped = st.car_grank(-TINY_SAR, -TINY_SCAR)
    assert flipped == pytest.approx(-stat, rel=1e-12) and p_flipped == pytest.approx(p, rel=1e-12)


def test_grank_needs_two_firms_with_different_scars() -> None:
    assert np.isnan(st.car_grank(TINY_SAR[:, :1], TINY_SCAR[:1])[0])
    assert np.isnan(st.car_grank(TINY_SAR, np.array([1.0, 1.0]))[0])


def test_kolari_pynnonen_with_zero_correlation_is_the_unadjusted_statistic() -> None:
    rng = np.random.default_rng(4)
    sar = rng.normal(0.3, 1.0, (5, 6))
    sar[1, 2] = np.nan
    t_obs = np.array([120.0, 200.0, 90.0, 240.0, 240.0, 61.0])
    for adjusted, plain in [
        (st.patell_kolari_pynnonen(sar, t_obs, 0.0), st.patell(sar, t_obs)),
        (st.bmp_kolari_pynnonen(sar, 0.0), st.bmp(sar)),
        (st.car_patell_kolari_pynnonen(sar[0], t_obs, 0.0), st.car_patell(sar[0], t_obs)),
        (st.car_bmp_kolari_pynnonen(sar[0], 0.0), st.car_bmp(sar[0])),
    ]:
        np.testing.assert_array_equal(adjusted[0], plain[0])
        np.testing.assert_array_equal(adjusted[1], plain[1])
    # a positive r shrinks them by the stated factors (N_t = 5 on the row with a missing SAR)
    r = 0.2
    patell_kp, _ = st.patell_kolari_pynnonen(sar, t_obs, r)
    np.testing.assert_allclose(patell_kp, st.patell(sar, t_obs)[0] / np.sqrt(1 + (np.array([6, 5, 6, 6, 6]) - 1) * r),
                               rtol=1e-14)
    assert st.car_bmp_kolari_pynnonen(sar[0], r)[0] == pytest.approx(
        st.car_bmp(sar[0])[0] * math.sqrt(0.8 / 2.0), rel=1e-14)


def test_engine_kp_columns_use_the_reported_mean_correlation() -> None:
    case = three_firms()
    returns, market = case.frames()
    result = run_event_study(returns, market, 0, case.config())
    daily, windows = result.daily, result.windows
    r_bar = daily["r_bar"].iloc[0]
    assert (daily["r_bar"] == r_bar).all() and (windows["r_bar"] == r_bar).all() and r_bar != 0
    n = daily["n"].to_numpy()
    np.testing.assert_allclose(daily["patell_kp"], daily["patell"] / np.sqrt(1 + (n - 1) * r_bar), rtol=1e-13)
    np.testing.assert_allclose(daily["bmp_kp"], daily["bmp"] * np.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar)),
                               rtol=1e-13)
    n = windows["n"].to_numpy()
    np.testing.assert_allclose(windows["car_patell_kp"], windows["car_patell"] / np.sqrt(1 + (n - 1) * r_bar),
                               rtol=1e-13)


def test_skewness_adjusted_t_against_scipy_skewness_and_its_symmetric_case() -> None:
    x = np.array([0.12, -0.03, 0.41, 0.02, -0.08, 0.95, 0.07])
    n, mean, sd = len(x), x.mean(), x.std(ddof=1)
    gamma = stats.skew(x, bias=True) * ((n - 1) / n) ** 1.5  # scipy's m3 / m2^1.5 with the ddof-1 SD instead
    expected = math.sqrt(n) * (mean / sd + gamma * (mean / sd) ** 2 / 3 + gamma / (6 * n))
    stat, p = st.bhar_skew_t(x)
    assert stat == pytest.approx(expected, rel=1e-13)
    assert (stat, p) == pytest.approx(skewness_adjusted_t(list(x)), rel=1e-13)
    assert p == pytest.approx(2 * stats.t.sf(expected, n - 1), rel=1e-12)
    plain, _ = st.bhar_t(x)
    assert plain == pytest.approx(stats.ttest_1samp(x, 0.0).statistic, rel=1e-13)
    assert stat > plain  # right skew with a positive mean raises the statistic
    symmetric = np.array([-0.2, 0.1, 0.4, 0.7, 1.0])  # zero skewness: the adjustment vanishes
    assert st.bhar_skew_t(symmetric)[0] == pytest.approx(st.bhar_t(symmetric)[0], rel=1e-13)
    assert np.isnan(st.bhar_skew_t(np.array([0.1]))[0]) and np.isnan(st.bhar_skew_t(np.array([0.1, 0.1]))[0])


@pytest.mark.parametrize("model", ["market_adjusted", "constant_mean"])
def test_lamb_without_a_market_term_is_bw1985_over_the_forecast_factor(model: str) -> None:
    case = three_firms()
    returns, market = case.frames()
    result = run_event_study(returns, market, 0, case.config(model=model))
    mean_t = result.firms["T"].mean()
    np.testing.assert_allclose(result.daily["lamb"], result.daily["brown_warner_1985"] / np.sqrt(1 + 1 / mean_t),
                               rtol=1e-13)


def test_every_statistic_has_stars_that_follow_its_p_value() -> None:
    case = three_firms()
    returns, market = case.frames()
    result = run_event_study(returns, market, 0, case.config())
    marks = []
    for frame, names in ((result.daily, DAILY_STATISTICS), (result.windows, CAR_STATISTICS)):
        for name in names:
            expected = [("***" if p <= 0.01 else "**" if p <= 0.05 else "*" if p <= 0.10 else "")
                        for p in frame[f"{name}_p"]]
            assert frame[f"{name}_stars"].tolist() == expected, name
            marks += expected
    assert {"*", "**", "***"} <= set(marks)


def test_one_firm_leaves_every_cross_sectional_test_empty_and_says_which() -> None:
    case = three_firms()
    returns, market = case.frames()
    result = run_event_study(returns[["A"]], market, 0, case.config())
    note = next(n for n in result.notes if "not applicable" in n)
    for frame, names in ((result.daily, DAILY_STATISTICS), (result.windows, CAR_STATISTICS)):
        for name in names:
            if name in CROSS_SECTIONAL:
                assert frame[name].isna().all() and frame[f"{name}_p"].isna().all(), name
                assert (frame[f"{name}_stars"] == "").all(), name
                assert name in note
            else:
                assert frame[name].notna().all(), name
    assert result.daily["r_bar"].isna().all()


def test_existing_warehouse_gets_the_new_columns_and_keeps_its_results(db_path) -> None:
    """Stored results written before the migration keep their values (mean_bhar becomes bhar_mean); the new
    statistics are NULL until the next ``eventstudy run``."""
    at = next(i for i, m in enumerate(migrations()) if m.name == "eventstudy_tests")
    con = duckdb.connect(str(db_path))
    for migration in migrations()[:at]:
        con.execute(migration.path.read_text())
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                    [migration.version, migration.name])
    old = con.execute("SELECT * FROM event_study_cross LIMIT 0").df().columns
    row = {c: None for c in old} | {
        "event_id": "e", "benchmark": "SPY", "model": "market", "returns_kind": "simple", "window": "[0,0]",
        "window_start": "2025-06-10", "window_end": "2025-06-10", "n": 2, "days": 1, "caar": 0.01, "mean_bhar": 0.02,
        "start_day": 0, "end_day": 0, "day0": "2025-06-10", "tickers": ["A", "B"], "run_id": 1,
    } | {c: "" for c in old if c.endswith("_stars")}
    con.register("old_row", pd.DataFrame([row]))
    con.execute("INSERT INTO event_study_cross BY NAME SELECT * FROM old_row")
    con.close()
    with Warehouse(db_path).write("upgrade"):
        pass
    reader = connect_readonly(db_path)
    try:
        stored = reader.execute("SELECT * FROM event_study_cross").df()
        daily_columns = set(reader.execute("SELECT * FROM event_study_cross_daily LIMIT 0").df().columns)
    finally:
        reader.close()
    assert "mean_bhar" not in stored.columns
    assert stored.loc[0, "bhar_mean"] == 0.02 and stored.loc[0, "caar"] == 0.01
    new = ["r_bar", *(f"{name}{suffix}" for name in CAR_STATISTICS if name not in old for suffix in ("", "_p"))]
    assert len(new) == 13 and stored.loc[0, new].isna().all()
    assert {"r_bar", *DAILY_STATISTICS, *(f"{name}_stars" for name in DAILY_STATISTICS)} <= daily_columns
