"""Unit checks of the statistic routines against brute force, scipy and hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from es_reference import average_ranks, brute_force_signed_rank_p
from scipy import stats

from etl.eventstudy import statistics as st


@pytest.mark.parametrize(
    "ranks",
    [
        [1, 2, 3, 4, 5, 6, 7],
        [1.5, 1.5, 3, 4.5, 4.5, 6, 7, 8],
        [2, 2, 2, 4.5, 4.5, 6],
        [1, 1],
        [1],
    ],
)
def test_exact_signed_rank_p_equals_enumeration_of_all_sign_patterns(ranks: list[float]) -> None:
    total = sum(ranks)
    for doubled_w in range(0, int(2 * total) + 1):
        w = doubled_w / 2
        assert st.signed_rank_p(np.array(ranks), w) == pytest.approx(
            brute_force_signed_rank_p(ranks, w), abs=1e-14
        )


def test_exact_signed_rank_p_without_ties_equals_scipy_exact_wilcoxon() -> None:
    x = np.array([0.8, -0.3, 1.9, 2.4, -1.1, 0.05, 3.3, -0.7, 1.4])
    w_stat, p = st.wilcoxon_test(x[None, :])
    ranks = stats.rankdata(np.abs(x))
    assert w_stat[0] == ranks[x > 0].sum() == 35.0
    expected = stats.wilcoxon(x, alternative="two-sided", method="exact", zero_method="wilcox")
    assert p[0] == pytest.approx(expected.pvalue, rel=1e-12)


def test_wilcoxon_drops_zeros_and_missing_and_averages_tied_ranks() -> None:
    row = np.array([[0.02, -0.02, 0.0, np.nan, 0.05, 0.02]])
    w_stat, p = st.wilcoxon_test(row)
    # |x| without the zero and the NaN: .02 .02 .05 .02 -> ranks 2, 2, 4, 2; positives .02 .05 .02
    assert average_ranks([0.02, 0.02, 0.05, 0.02]) == [2.0, 2.0, 4.0, 2.0]
    assert w_stat[0] == 8.0
    assert p[0] == pytest.approx(brute_force_signed_rank_p([2, 2, 4, 2], 8.0), abs=1e-15)
    # all-zero or empty rows have no statistic
    empty_w, empty_p = st.wilcoxon_test(np.array([[0.0, np.nan]]))
    assert np.isnan(empty_w[0]) and np.isnan(empty_p[0])


def test_corrado_ranks_average_ties_within_each_firm_and_ignore_missing() -> None:
    ar = np.array([[0.1, 3.0], [0.1, np.nan], [-0.2, 1.0], [0.4, 1.0]])
    ranks = st.corrado_ranks(ar)
    np.testing.assert_array_equal(ranks[:, 0], [2.5, 2.5, 1.0, 4.0])
    np.testing.assert_array_equal(ranks[:, 1], [3.0, np.nan, 1.5, 1.5])


def test_rank_statistics_are_invariant_to_a_strictly_increasing_transform() -> None:
    rng = np.random.default_rng(3)
    ar = rng.normal(0, 0.02, (80, 5))
    ar[rng.random((80, 5)) < 0.05] = np.nan
    rows = np.arange(70, 80)
    transformed = np.sign(ar) * np.abs(ar) ** 3 + 7.0  # strictly increasing, shifts and bends
    plain_ranks, bent_ranks = st.corrado_ranks(ar), st.corrado_ranks(transformed)
    np.testing.assert_array_equal(plain_ranks, bent_ranks)
    daily, daily_bent = st.corrado_rank_test(plain_ranks, rows), st.corrado_rank_test(bent_ranks, rows)
    np.testing.assert_array_equal(daily[0], daily_bent[0])
    assert np.isfinite(daily[0]).all()
    car, car_bent = st.car_rank_test(plain_ranks, rows[:3], 3), st.car_rank_test(bent_ranks, rows[:3], 3)
    assert car[0] == car_bent[0] and np.isfinite(car[0])


def test_sign_statistics_are_invariant_to_scaling_and_hand_values() -> None:
    ar = np.array([[0.01, -0.02, 0.03, 0.0, np.nan, 0.05]])
    for scale in (1.0, 1e-3, 250.0):
        sign, _ = st.sign_test(ar * scale)
        gsign, _ = st.generalized_sign_test(ar * scale, 0.45)
        # n+ = 3 of N = 5: (3 - 2.5) / sqrt(1.25) and (3 - 5*.45) / sqrt(5*.45*.55)
        assert sign[0] == pytest.approx(0.5 / np.sqrt(1.25), rel=1e-15)
        assert gsign[0] == pytest.approx(0.75 / np.sqrt(5 * 0.45 * 0.55), rel=1e-15)


def test_p_values_and_stars() -> None:
    assert st.p_normal(np.array([1.959963984540054]))[0] == pytest.approx(0.05, rel=1e-12)
    assert st.p_student(np.array([2.0]), 10.0)[0] == pytest.approx(2 * stats.t.sf(2.0, 10), rel=1e-15)
    assert np.isnan(st.p_student(np.array([2.0]), 0.0)[0])
    marks = st.stars(np.array([0.2, 0.1, 0.07, 0.05, 0.02, 0.01, 0.001, np.nan]))
    assert marks.tolist() == ["", "*", "*", "**", "**", "***", "***", ""]


def test_cross_sectional_t_needs_two_firms_and_a_spread() -> None:
    stat, p = st.t_test(np.array([[0.01, np.nan], [0.01, 0.03], [0.02, 0.02]]))
    assert np.isnan(stat[0]) and np.isnan(p[0])  # one firm: not applicable
    assert stat[1] == pytest.approx(0.02 / (np.std([0.01, 0.03], ddof=1) / np.sqrt(2)), rel=1e-15)
    assert np.isnan(stat[2])  # zero cross-sectional spread: undefined, not infinite


def test_kolari_pynnonen_shrinks_bmp_by_the_mean_residual_correlation() -> None:
    rng = np.random.default_rng(11)
    common = rng.normal(0, 1, 200)
    est = np.column_stack([common + rng.normal(0, 1, 200) for _ in range(4)])
    r_bar = st.mean_pairwise_correlation(est)
    pairs = [np.corrcoef(est[:, i], est[:, j])[0, 1] for i in range(4) for j in range(i + 1, 4)]
    assert r_bar == pytest.approx(np.mean(pairs), rel=1e-12) and 0.3 < r_bar < 0.7
    sar = rng.normal(0.5, 1, (1, 4))
    bmp, _ = st.bmp(sar)
    kp, _ = st.bmp_kolari_pynnonen(sar, r_bar)
    assert kp[0] == pytest.approx(bmp[0] * np.sqrt((1 - r_bar) / (1 + 3 * r_bar)), rel=1e-12)
