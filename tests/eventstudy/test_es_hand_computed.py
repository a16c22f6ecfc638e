"""Engine output against statistics computed by hand (tests/eventstudy/es_reference.py) to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from es_cases import DAY0_AR_WITH_TIES, Case, dyadic_ties, three_firms
from es_reference import HandStudy, average_ranks, brute_force_signed_rank_p

from etl.eventstudy.engine import CAR_STATISTICS, DAILY_STATISTICS, EventStudyResult, run_event_study

RTOL, ATOL = 1e-9, 1e-12


def _run(case: Case, model: str, kind: str = "simple") -> tuple[EventStudyResult, HandStudy]:
    returns, market = case.frames()
    result = run_event_study(returns, market, 0, case.config(model=model, kind=kind))
    hand = HandStudy(case.R, case.M, case.rel.tolist(), case.estimation, case.windows, model=model,
                     log_returns=kind == "log")
    return result, hand


def _mismatches(actual: dict, expected: dict, where: str) -> list[str]:
    bad = []
    for key, value in expected.items():
        got = actual[key]
        same = (math.isnan(value) and math.isnan(got)) or math.isclose(got, value, rel_tol=RTOL, abs_tol=ATOL)
        if not same:
            bad.append(f"{where} {key}: engine {got!r} != hand {value!r}")
    return bad


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean"])
def test_estimation_facts_and_abnormal_returns_match_hand_ols(model: str) -> None:
    result, hand = _run(three_firms(), model)
    firms = result.firms.set_index("firm")
    assert firms["T"].tolist() == hand.T == [69, 64, 69]
    for i, firm in enumerate(["A", "B", "C"]):
        expected = {"alpha": hand.alpha[i], "beta": hand.beta[i], "s": hand.s[i], "r2": hand.r2[i]}
        assert _mismatches(firms.loc[firm].to_dict(), expected, firm) == []
    # AR for every session from the estimation start (-75) to the end of the path window (+5)
    assert list(result.abnormal.index) == list(range(-75, 6))
    rows = [hand.rel.index(d) for d in result.abnormal.index]
    np.testing.assert_allclose(result.abnormal.to_numpy(), hand.AR[rows], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean"])
def test_every_daily_statistic_matches_hand_computation(model: str) -> None:
    result, hand = _run(three_firms(), model)
    assert result.daily["relative_day"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert result.daily["n"].tolist() == [3, 3, 3, 3, 3, 2, 3]
    bad = []
    for pos, row in enumerate(hand.event_rows):
        bad += _mismatches(result.daily.iloc[pos].to_dict(), hand.daily(row), f"day {hand.rel[row]}")
    assert bad == []
    expected_columns = {*DAILY_STATISTICS, *(f"{s}_p" for s in DAILY_STATISTICS)}
    assert expected_columns <= set(hand.daily(hand.event_rows[0])) and expected_columns <= set(result.daily.columns)


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean"])
def test_every_car_statistic_matches_hand_computation(model: str) -> None:
    result, hand = _run(three_firms(), model)
    bad = []
    for pos, window in enumerate(hand.windows):
        actual = result.windows.iloc[pos].to_dict()
        assert (actual["start_day"], actual["end_day"]) == window
        bad += _mismatches(actual, hand.window(window), f"window {window}")
    assert bad == []
    expected_columns = {*CAR_STATISTICS, *(f"{s}_p" for s in CAR_STATISTICS)}
    assert expected_columns <= set(hand.window(hand.windows[0])) and expected_columns <= set(result.windows.columns)


@pytest.mark.parametrize("kind", ["simple", "log"])
def test_per_firm_car_bhar_and_time_series_t_match_hand(kind: str) -> None:
    result, hand = _run(three_firms(), "market", kind)
    bad = []
    for window in hand.windows:
        label = f"[{window[0]:+d},{window[1]:+d}]".replace("+0", "0")
        rows = result.firm_windows[result.firm_windows["window"] == label].set_index("firm")
        for i, firm in enumerate(["A", "B", "C"]):
            expected = hand.firm_car(i, window, log_returns=kind == "log")
            bad += _mismatches(rows.loc[firm].to_dict(), expected, f"{firm} {label}")
    assert bad == []
    # C has no return on day +2, so its CAR over [0, +2] sums two sessions while L stays 3
    c_row = result.firm_windows.query("window == '[0,+2]' and firm == 'C'").iloc[0]
    assert c_row["days"] == 2
    assert result.windows.set_index("window").loc["[0,+2]", "days"] == 3


def test_log_returns_bhar_converts_with_exp() -> None:
    """Log input: BHAR = exp(sum r) - exp(sum of expected log returns); CAR stays additive in logs."""
    result, hand = _run(three_firms(), "market", "log")
    row = result.firm_windows.query("window == '[-1,+1]' and firm == 'A'").iloc[0]
    rows = hand.window_rows((-1, 1))
    assert row["bhar"] == pytest.approx(
        math.exp(sum(hand.R[k, 0] for k in rows)) - math.exp(sum(hand.EXP[k, 0] for k in rows)), rel=RTOL
    )
    assert row["car"] == pytest.approx(sum(hand.AR[k, 0] for k in rows), rel=RTOL)


def test_ties_zero_and_rank_statistics_on_exact_dyadic_returns() -> None:
    case = dyadic_ties()
    result, hand = _run(case, "market_adjusted")
    day0 = result.daily.set_index("relative_day").loc[0]
    # hand: nonzero |AR| = 3,3,5,3,1 (x 1/256) -> ranks 3,3,5,3,1; positives are 3, 5, 3 -> W = 11
    assert average_ranks([3, 3, 5, 3, 1]) == [3.0, 3.0, 5.0, 3.0, 1.0]
    assert day0["wilcoxon"] == 11.0
    assert day0["wilcoxon_p"] == pytest.approx(brute_force_signed_rank_p([3, 3, 5, 3, 1], 11.0), abs=1e-15)
    assert day0["n"] == 6
    assert day0["aar"] == pytest.approx(DAY0_AR_WITH_TIES.mean(), abs=1e-15)
    # the sign test counts AR > 0 strictly: 3 positives out of 6 (the zero is not positive)
    assert day0["sign"] == 0.0
    bad = []
    for pos, row in enumerate(hand.event_rows):
        bad += _mismatches(result.daily.iloc[pos].to_dict(), hand.daily(row), f"day {hand.rel[row]}")
    for pos, window in enumerate(hand.windows):
        bad += _mismatches(result.windows.iloc[pos].to_dict(), hand.window(window), f"window {window}")
    assert bad == []
    # the estimation samples really contain ties (otherwise this case would not test tie handling)
    ranks, _, _ = hand.corrado()
    assert any(r != int(r) for firm in ranks for r in firm.values())
