"""Identities, missing data, exclusions, single-firm events and benchmarks per firm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from es_cases import three_firms
from scipy import stats

from etl.eventstudy.engine import DAILY_STATISTICS, EventStudyConfig, run_event_study
from etl.eventstudy.models import expected_returns, fit_normal_model, returns_from_prices
from etl.eventstudy.windows import LabelWindow, OffsetWindow

RANK_AND_SIGN = ["sign", "generalized_sign", "corrado_sign", "rank", "modified_rank", "wilcoxon"]


def _market_and_ar(n_days: int = 320, n_firms: int = 6, seed: int = 5) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-02", periods=n_days)
    market = pd.Series(rng.normal(0.0004, 0.01, n_days), index=index)
    ar = rng.normal(0.0, 0.015, (n_days, n_firms))
    return market, ar


def _frame(market: pd.Series, ar: np.ndarray) -> pd.DataFrame:
    values = market.to_numpy()[:, None] + ar
    return pd.DataFrame(values, index=market.index, columns=[f"F{i}" for i in range(ar.shape[1])])


def test_market_adjusted_ar_is_exactly_r_minus_rm() -> None:
    market, ar = _market_and_ar()
    returns = _frame(market, ar)
    returns.iloc[100, 2] = np.nan
    result = run_event_study(returns, market, market.index[300], EventStudyConfig(model="market_adjusted"))
    span = result.abnormal.index
    expected = returns.loc[span].to_numpy() - market.loc[span].to_numpy()[:, None]
    np.testing.assert_array_equal(result.abnormal.to_numpy(), expected)
    assert np.isnan(result.abnormal.loc[market.index[100], "F2"])


def test_firm_equal_to_its_benchmark_has_zero_ar_and_is_excluded_not_dropped() -> None:
    market, ar = _market_and_ar(n_firms=3)
    returns = _frame(market, ar).assign(SPYCOPY=market)
    r, m = returns.to_numpy(), np.repeat(market.to_numpy()[:, None], 4, axis=1)
    sample = np.ones_like(r, dtype=bool)
    adjusted = fit_normal_model(r, m, sample, "market_adjusted")
    assert np.array_equal(r[:, 3] - expected_returns(adjusted, m, "market_adjusted")[:, 3], np.zeros(len(r)))
    market_fit = fit_normal_model(r, m, sample, "market")
    assert market_fit.alpha[3] == pytest.approx(0.0, abs=1e-15)
    assert market_fit.beta[3] == pytest.approx(1.0, abs=1e-12)
    assert market_fit.r2[3] == pytest.approx(1.0, abs=1e-12)
    for model in ("market_adjusted", "market"):
        result = run_event_study(returns, market, market.index[300], EventStudyConfig(model=model))
        assert [e.firm for e in result.exclusions] == ["SPYCOPY"]
        assert "s = 0" in result.exclusions[0].reason
        assert result.firms["firm"].tolist() == ["F0", "F1", "F2"]


def test_rank_and_sign_statistics_unchanged_when_ar_goes_through_a_cube() -> None:
    market, ar = _market_and_ar()
    cubed = 400.0 * ar**3  # strictly increasing in AR, similar magnitude
    config = EventStudyConfig(model="market_adjusted")
    plain = run_event_study(_frame(market, ar), market, market.index[300], config)
    bent = run_event_study(_frame(market, cubed), market, market.index[300], config)
    for column in RANK_AND_SIGN + [f"{c}_p" for c in RANK_AND_SIGN]:
        np.testing.assert_array_equal(plain.daily[column], bent.daily[column], err_msg=column)
    np.testing.assert_array_equal(plain.windows["car_rank"], bent.windows["car_rank"])
    assert not np.allclose(plain.daily["t_test"], bent.daily["t_test"])  # the transform is not trivial


def test_every_daily_statistic_is_scale_free_and_sign_counts_are_exact() -> None:
    market, ar = _market_and_ar()
    config = EventStudyConfig(model="market_adjusted")
    base = run_event_study(_frame(market, ar), market, market.index[300], config)
    scaled = run_event_study(_frame(market, 3.0 * ar), market, market.index[300], config)
    for column in ["sign", "generalized_sign"]:
        np.testing.assert_array_equal(base.daily[column], scaled.daily[column], err_msg=column)
    for column in DAILY_STATISTICS:
        np.testing.assert_allclose(base.daily[column], scaled.daily[column], rtol=1e-9, err_msg=column)
    np.testing.assert_allclose(scaled.daily["aar"], 3.0 * base.daily["aar"], rtol=1e-9)


def test_firm_listed_mid_estimation_window_gets_its_true_sample_size() -> None:
    market, ar = _market_and_ar(n_firms=3)
    returns = _frame(market, ar)
    returns.columns = ["OLD", "NEW", "IPO"]
    returns.iloc[:200, 1] = np.nan  # listed at session 200: estimation rows 50..289 -> 90 sessions
    returns.iloc[:260, 2] = np.nan  # listed at session 260: 30 sessions
    day0 = market.index[300]
    result = run_event_study(returns, market, day0)
    firms = result.firms.set_index("firm")
    assert firms["T"].to_dict() == {"OLD": 240, "NEW": 90}
    assert firms.loc["NEW", "first_obs"] == market.index[200]
    assert firms.loc["NEW", "last_obs"] == market.index[289]
    beta, alpha = np.polyfit(market.iloc[200:290], returns["NEW"].iloc[200:290], 1)
    assert firms.loc["NEW", "beta"] == pytest.approx(beta, rel=1e-10)
    assert firms.loc["NEW", "alpha"] == pytest.approx(alpha, rel=1e-9, abs=1e-15)
    assert len(result.exclusions) == 1
    excluded = result.exclusions[0]
    assert excluded.firm == "IPO"
    assert "only 30 sessions" in excluded.reason and "minimum 60" in excluded.reason
    window_text = f"{market.index[50]:%Y-%m-%d}..{market.index[289]:%Y-%m-%d}"
    assert window_text == "2024-03-12..2025-02-10"
    assert window_text in excluded.reason  # the estimation window as dates
    shorter = run_event_study(returns, market, day0, EventStudyConfig(min_obs=30))
    assert shorter.firms.set_index("firm").loc["IPO", "T"] == 30
    assert shorter.exclusions == ()


def test_missing_event_day_return_only_lowers_n() -> None:
    market, ar = _market_and_ar(n_firms=4)
    returns = _frame(market, ar)
    day0 = market.index[300]
    returns.loc[day0, "F1"] = np.nan
    result = run_event_study(returns, market, day0)
    daily = result.daily.set_index("relative_day")
    assert daily.loc[0, "n"] == 3 and daily.loc[1, "n"] == 4
    assert len(result.firms) == 4
    zero = result.windows.set_index("window").loc["[0,0]"]
    assert zero["n"] == 3


def test_single_firm_reports_time_series_t_and_no_cross_sectional_tests() -> None:
    market, ar = _market_and_ar(n_firms=1)
    returns = _frame(market, ar)
    result = run_event_study(returns, market, market.index[300])
    firm = result.firms.iloc[0]
    s, t_obs = firm["s"], firm["T"]
    day0 = result.firm_daily.query("relative_day == 0").iloc[0]
    ar0 = result.abnormal.loc[market.index[300], "F0"]
    assert day0["ar_t"] == pytest.approx(ar0 / s, rel=1e-12)
    assert day0["ar_t_p"] == pytest.approx(2 * stats.t.sf(abs(ar0 / s), t_obs - 1), rel=1e-12)
    window = result.firm_windows.query("window == '[-1,+1]'").iloc[0]
    car = result.abnormal.loc[market.index[299] : market.index[301], "F0"].sum()
    assert window["car"] == pytest.approx(car, rel=1e-12)
    assert window["car_t"] == pytest.approx(car / (s * np.sqrt(3)), rel=1e-12)
    assert window["car_t_p"] == pytest.approx(2 * stats.t.sf(abs(car / (s * np.sqrt(3))), t_obs - 1))
    for column in ["t_test", "bmp", "bmp_kp"]:
        assert result.daily[column].isna().all()
    assert result.windows[["car_t_test", "car_bmp"]].isna().all().all()
    assert any("not applicable" in note for note in result.notes)
    # BW1980 with one firm is the same time-series t
    assert result.daily.set_index("relative_day").loc[0, "brown_warner_1980"] == pytest.approx(ar0 / s)


def test_each_firm_can_have_its_own_benchmark() -> None:
    case = three_firms()
    returns, market = case.frames()
    other = market * 0.5 + 0.001
    benchmarks = pd.DataFrame({"A": market, "B": other, "C": market})
    config = case.config()
    together = run_event_study(returns, benchmarks, 0, config)
    alone = run_event_study(returns[["B"]], other, 0, config)
    b_together = together.firms.set_index("firm").loc["B"]
    b_alone = alone.firms.set_index("firm").loc["B"]
    for column in ["T", "alpha", "beta", "s", "r2"]:
        assert b_together[column] == pytest.approx(b_alone[column], rel=1e-12)
    np.testing.assert_allclose(together.abnormal["B"], alone.abnormal["B"], rtol=1e-12)
    with pytest.raises(ValueError, match="no benchmark column"):
        run_event_study(returns, benchmarks[["A"]], 0, config)


def test_label_windows_on_dates_and_window_notes() -> None:
    market, ar = _market_and_ar(n_firms=3)
    returns = _frame(market, ar)
    config = EventStudyConfig(
        estimation=LabelWindow("2024-01-01", "2024-10-31"),
        event_windows=(LabelWindow("2024-11-04", "2024-11-08"), OffsetWindow(-1, 1)),
    )
    result = run_event_study(returns, market, "2024-11-05", config)
    assert result.estimation_window == (pd.Timestamp("2024-01-02"), pd.Timestamp("2024-10-31"))
    assert result.event_period == (pd.Timestamp("2024-11-04"), pd.Timestamp("2024-11-08"))
    assert result.windows["days"].tolist() == [5, 3]
    assert result.daily["relative_day"].tolist() == [-1, 0, 1, 2, 3]
    assert result.notes == ()
    overlapping = EventStudyConfig(estimation=OffsetWindow(-100, 0))
    assert "overlaps the event period" in " ".join(
        run_event_study(returns, market, market.index[300], overlapping).notes
    )
    late = run_event_study(returns, market, market.index[-3])
    assert any("clipped" in note for note in late.notes)
    with pytest.raises(ValueError, match="not a session"):
        run_event_study(returns, market, "2024-11-09")  # a Saturday


def test_unsorted_or_duplicated_index_is_rejected() -> None:
    market, ar = _market_and_ar(n_firms=2)
    returns = _frame(market, ar)
    with pytest.raises(ValueError, match="sorted"):
        run_event_study(returns.iloc[::-1], market, market.index[300])
    with pytest.raises(ValueError, match="duplicate"):
        doubled = pd.concat([returns.iloc[:5], returns])
        run_event_study(doubled, market, market.index[300])


def test_returns_from_prices_keeps_gaps_missing() -> None:
    prices = pd.Series([100.0, 110.0, np.nan, 121.0, 133.1])
    simple = returns_from_prices(prices)
    np.testing.assert_allclose(simple.to_numpy(), [np.nan, 0.1, np.nan, np.nan, 0.1], rtol=1e-12)
    logs = returns_from_prices(prices, "log")
    np.testing.assert_allclose(
        logs.to_numpy(), [np.nan, np.log(1.1), np.nan, np.nan, np.log(1.1)], rtol=1e-12
    )
    with pytest.raises(ValueError, match="positive"):
        returns_from_prices(pd.Series([1.0, 0.0]))


def test_config_rejects_unknown_model_and_too_small_min_obs() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        EventStudyConfig(model="fama_french")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_obs"):
        EventStudyConfig(min_obs=4)


def test_car_path_cumulates_from_day_minus_10_and_skips_missing_days() -> None:
    market, ar = _market_and_ar(n_firms=2)
    returns = _frame(market, ar)
    day0 = market.index[300]
    returns.loc[market.index[298], "F1"] = np.nan  # day -2
    result = run_event_study(returns, market, day0, EventStudyConfig(model="market_adjusted"))
    path = result.firm_daily[result.firm_daily["firm"] == "F1"].set_index("relative_day")
    assert path.index.tolist() == list(range(-10, 11))
    expected_ar = returns["F1"].iloc[290:311].to_numpy() - market.iloc[290:311].to_numpy()
    np.testing.assert_array_equal(path["ar"].to_numpy(), expected_ar)
    assert np.isnan(path.loc[-2, "car"])
    assert path.loc[-3, "car"] == pytest.approx(expected_ar[:8].sum(), rel=1e-12)
    assert path.loc[10, "car"] == pytest.approx(np.nansum(expected_ar), rel=1e-12)


def test_every_firm_excluded_gives_empty_statistics_and_reasons() -> None:
    market, ar = _market_and_ar(n_firms=2)
    returns = _frame(market, ar)
    returns.iloc[:280] = np.nan
    result = run_event_study(returns, market, market.index[300])
    assert [e.firm for e in result.exclusions] == ["F0", "F1"]
    assert result.firms.empty and result.firm_windows.empty
    assert (result.daily["n"] == 0).all() and result.daily["aar"].isna().all()
    assert result.windows[["caar", "car_t_test", "car_patell", "car_rank"]].isna().all().all()
    assert "every firm is excluded" in " ".join(result.notes)


def test_infinite_returns_are_rejected() -> None:
    market, ar = _market_and_ar(n_firms=2)
    returns = _frame(market, ar)
    returns.iloc[10, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        run_event_study(returns, market, market.index[300])
