"""Event-study test statistics on plain numpy arrays (see docs/eventstudy.md for the formulas).

Conventions shared by every function:

- matrices are ``(sessions, firms)`` float arrays where NaN means "no observation";
- a statistic that cannot be computed (no firm, a zero or undefined denominator) is NaN, never
  an exception, and its p-value is NaN as well;
- every function returns ``(statistic, two-sided p-value)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

Array = np.ndarray
Tested = tuple[Array, Array]

STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))


def present_count(x: Array) -> Array:
    """Number of non-missing values per row."""
    return np.sum(~np.isnan(x), axis=1)


def row_mean(x: Array) -> Array:
    """Mean of the non-missing values per row; NaN for an empty row (without a warning)."""
    n = present_count(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(x, axis=1) / n, np.nan)


def row_sd(x: Array) -> Array:
    """Sample standard deviation (ddof = 1) of the non-missing values per row; NaN below 2 values."""
    n = present_count(x)
    dev = x - row_mean(x)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt(np.nansum(dev * dev, axis=1) / (n - 1)), np.nan)


def p_normal(z: Array) -> Array:
    """Two-sided p-value under the standard normal."""
    return 2.0 * special.ndtr(-np.abs(z))


def p_student(t: Array, df: Array | float) -> Array:
    """Two-sided p-value under Student's t; NaN when df is not positive."""
    df = np.broadcast_to(np.asarray(df, dtype=float), np.shape(t))
    valid = np.isfinite(df) & (df > 0)
    return np.where(valid, 2.0 * special.stdtr(np.where(valid, df, 1.0), -np.abs(t)), np.nan)


def stars(p: Array) -> Array:
    """``***`` for p <= 1 %, ``**`` for p <= 5 %, ``*`` for p <= 10 %, else empty (also for NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, "", dtype=object)
    for level, mark in reversed(STAR_LEVELS):
        out[p <= level] = mark
    return out


def _ratio(num: Array, den: Array) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _cross_sectional_t(x: Array) -> Tested:
    """mean / (SD ddof=1 / sqrt(n)) per row, Student t with n - 1 df."""
    n = present_count(x)
    stat = _ratio(row_mean(x) * np.sqrt(n), row_sd(x))
    return stat, p_student(stat, n - 1.0)


def t_test(ar: Array) -> Tested:
    """Cross-sectional t of AAR_t (Boehmer et al. 1991 'cross-sectional test'); df N_t - 1."""
    return _cross_sectional_t(ar)


def brown_warner_1980(ar: Array, s: Array, mean_t: float) -> Tested:
    """AAR_t / (sqrt(sum of s_i^2 over firms present on t) / N_t); df mean(T_i) - 1."""
    present = ~np.isnan(ar)
    n = present.sum(axis=1)
    var_sum = (present * (s * s)[None, :]).sum(axis=1)
    stat = _ratio(row_mean(ar), np.sqrt(var_sum) / np.maximum(n, 1))
    return stat, p_student(stat, mean_t - 1.0)


def brown_warner_1985_sd(estimation_ar: Array) -> float:
    """SD (ddof = 1) over estimation dates of the cross-sectional mean AR of the firms present."""
    means = row_mean(estimation_ar)
    means = means[~np.isnan(means)]
    return float(np.std(means, ddof=1)) if means.size > 1 else float("nan")


def brown_warner_1985(ar: Array, sd_abar: float, mean_t: float) -> Tested:
    """AAR_t / SD(Abar_tau) (crude dependence adjustment); df mean(T_i) - 1."""
    stat = _ratio(row_mean(ar), np.full(ar.shape[0], sd_abar))
    return stat, p_student(stat, mean_t - 1.0)


def patell_variance_sum(present: Array, t_obs: Array) -> Array:
    """Sum over the firms present of (T_i - 2) / (T_i - 4), the variance of a sum of SARs."""
    return (present * ((t_obs - 2.0) / (t_obs - 4.0))[None, :]).sum(axis=1)


def patell(sar: Array, t_obs: Array) -> Tested:
    """Patell (1976) Z_t = sum_i SAR_it / sqrt(sum_i (T_i - 2)/(T_i - 4)); standard normal."""
    present = ~np.isnan(sar)
    total = np.where(present.any(axis=1), np.nansum(sar, axis=1), np.nan)
    stat = _ratio(total, np.sqrt(patell_variance_sum(present, t_obs)))
    return stat, p_normal(stat)


def bmp(sar: Array) -> Tested:
    """Boehmer, Musumeci & Poulsen (1991): cross-sectional t of the SARs; df N_t - 1."""
    return _cross_sectional_t(sar)


def mean_pairwise_correlation(estimation_ar: Array) -> float:
    """Mean over firm pairs of the Pearson correlation of estimation residuals (pairwise complete,
    pairs with fewer than 3 common sessions ignored); NaN with fewer than two firms."""
    corr = pd.DataFrame(estimation_ar).corr(min_periods=3).to_numpy()
    upper = corr[np.triu_indices_from(corr, k=1)]
    upper = upper[~np.isnan(upper)]
    return float(upper.mean()) if upper.size else float("nan")


def _kolari_pynnonen(stat: Array, n: Array, r_bar: float, numerator: float) -> Array:
    """``stat`` times sqrt(numerator / (1 + (n - 1) r)): NaN when r is NaN (one firm) or the root is not real."""
    with np.errstate(invalid="ignore"):
        return stat * np.sqrt(numerator / (1.0 + (n - 1.0) * r_bar))


def patell_kolari_pynnonen(sar: Array, t_obs: Array, r_bar: float) -> Tested:
    """Kolari & Pynnönen (2010) adjusted Patell: Z_t sqrt(1 / (1 + (N_t - 1) r)); standard normal."""
    stat, _ = patell(sar, t_obs)
    stat = _kolari_pynnonen(stat, present_count(sar), r_bar, 1.0)
    return stat, p_normal(stat)


def bmp_kolari_pynnonen(sar: Array, r_bar: float) -> Tested:
    """Kolari & Pynnönen (2010): BMP times sqrt((1 - r) / (1 + (N_t - 1) r)); df N_t - 1.

    BMP's cross-sectional variance is itself biased down by the factor (1 - r), hence the numerator.
    """
    stat, _ = bmp(sar)
    n = present_count(sar)
    stat = _kolari_pynnonen(stat, n, r_bar, 1.0 - r_bar)
    return stat, p_student(stat, n - 1.0)


def lamb(ar: Array, sd_abar: float, mean_t: float, term: Array) -> Tested:
    """Lamb (1995), estudy2's form: AAR_t / (SD(Abar_tau) sqrt(1 + 1/mean(T_i) + market term)); standard normal.

    ``term`` is the (sessions, firms) market term of the OLS forecast (zero for the models without a market
    fit); on each row its mean over the firms present is used, which is the term itself when they share a
    benchmark.
    """
    row_term = row_mean(np.where(np.isnan(ar), np.nan, term))
    with np.errstate(invalid="ignore"):
        scale = sd_abar * np.sqrt(1.0 + 1.0 / mean_t + row_term)
    stat = _ratio(row_mean(ar), scale)
    return stat, p_normal(stat)


def positives(ar: Array) -> tuple[Array, Array]:
    """(n+_t, N_t): firms with AR > 0 and firms with an AR on each row."""
    return np.sum(ar > 0, axis=1).astype(float), present_count(ar).astype(float)


def sign_test(ar: Array) -> Tested:
    """(n+_t - 0.5 N_t) / sqrt(0.25 N_t); standard normal."""
    pos, n = positives(ar)
    stat = _ratio(pos - 0.5 * n, np.sqrt(0.25 * n))
    return stat, p_normal(stat)


def generalized_sign_test(ar: Array, p_hat: float) -> Tested:
    """Cowan (1992): (n+_t - N_t p) / sqrt(N_t p (1 - p)), p = share of positive estimation ARs."""
    pos, n = positives(ar)
    stat = _ratio(pos - n * p_hat, np.sqrt(n * p_hat * (1.0 - p_hat)))
    return stat, p_normal(stat)


def corrado_ranks(ar_f: Array) -> Array:
    """Rank of each AR within its firm's sample F_i (ties averaged); NaN outside F_i."""
    return stats.rankdata(ar_f, axis=0, nan_policy="omit")


def _rank_scale(deviation: Array, f_size: Array) -> float:
    """sqrt(sum_t deviation_t^2 / mean_i |F_i|) over the dates t where some firm has a rank."""
    if f_size.size == 0:
        return float("nan")
    return float(np.sqrt(np.nansum(deviation * deviation) / f_size.mean()))


def corrado_rank_test(ranks: Array, rows: Array) -> Tested:
    """Corrado (1989) rank statistic D_t / sd on the given rows of ``ranks``; standard normal.

    ``ranks`` covers every date of the union of the F_i, ``rows`` selects the event days.
    """
    f_size = present_count(ranks.T).astype(float)
    k_bar_i = np.nanmean(ranks, axis=0)
    d = row_mean(ranks - k_bar_i[None, :])
    stat = _ratio(d[rows], np.full(len(rows), _rank_scale(d, f_size)))
    return stat, p_normal(stat)


def _scaled_sums(x: Array) -> Array:
    """Sum over the firms present divided by sqrt(N_t) per row; NaN for an empty row."""
    n = present_count(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(x, axis=1) / np.sqrt(n), np.nan)


def corrado_sign_test(ar_f: Array, rows: Array) -> Tested:
    """Corrado & Zivney (1992) sign test: S_it = sign(AR_it - median_i) on F_i; standard normal.

    ``ar_f`` holds the ARs of every date of the union of the F_i (NaN outside F_i), ``rows`` the event days.
    """
    f_size = present_count(ar_f.T).astype(float)
    g = _scaled_sums(np.sign(ar_f - np.nanmedian(ar_f, axis=0)[None, :]))
    stat = _ratio(g[rows], np.full(len(rows), _rank_scale(g, f_size)))
    return stat, p_normal(stat)


def modified_rank_test(ranks: Array, rows: Array) -> Tested:
    """Corrado & Zivney (1992) standardized ranks U_it = K_it / (1 + |F_i|); DU_t / sd, standard normal."""
    f_size = present_count(ranks.T).astype(float)
    du = _scaled_sums(ranks / (1.0 + f_size)[None, :] - 0.5)
    stat = _ratio(du[rows], np.full(len(rows), _rank_scale(du, f_size)))
    return stat, p_normal(stat)


def car_rank_test(ranks: Array, rows: Array, length: int) -> Tested:
    """Cowan (1992) cumulative rank statistic over the window ``rows`` of ``length`` sessions."""
    f_size = present_count(ranks.T).astype(float)
    k_bar_t = row_mean(ranks)
    window_means = k_bar_t[rows]
    window_means = window_means[~np.isnan(window_means)]
    if window_means.size == 0:
        return np.array(np.nan), np.array(np.nan)
    k_bar = float(np.nanmean(ranks, axis=0).mean())
    scale = np.array(_rank_scale(k_bar_t - k_bar, f_size))
    stat = _ratio(np.sqrt(length) * (window_means.mean() - k_bar), scale)
    return stat, p_normal(stat)


def signed_rank_p(ranks: Array, w: float) -> float:
    """Exact two-sided p of the signed-rank statistic W given the (possibly tie-averaged) ranks.

    Under H0 each rank carries a + sign with probability 1/2 independently. Averaged ranks are
    multiples of 1/2, so the distribution of 2W is built exactly on integers by dynamic programming
    (each rank either adds 2r or nothing). p = min(1, 2 min(P(W <= w), P(W >= w))), which equals
    R's ``psignrank``-based p-value when there are no ties.
    """
    doubled = np.rint(2.0 * np.asarray(ranks)).astype(np.int64)
    dist = np.zeros(int(doubled.sum()) + 1)
    dist[0] = 1.0
    for step in doubled:
        shifted = np.zeros_like(dist)
        shifted[step:] = dist[:-step]
        dist = 0.5 * (dist + shifted)
    k = int(np.rint(2.0 * w))
    return float(min(1.0, 2.0 * min(dist[: k + 1].sum(), dist[k:].sum())))


def wilcoxon_test(ar: Array) -> Tested:
    """Wilcoxon signed-rank W_t per row: zeros dropped, ranks of |AR| averaged over ties, exact p."""
    w_stat = np.full(ar.shape[0], np.nan)
    p = np.full(ar.shape[0], np.nan)
    for t, row in enumerate(ar):
        x = row[~np.isnan(row) & (row != 0)]
        if x.size:
            ranks = stats.rankdata(np.abs(x))
            w_stat[t] = ranks[x > 0].sum()
            p[t] = signed_rank_p(ranks, w_stat[t])
    return w_stat, p


def car_t_test(car: Array) -> Tested:
    """CAAR / (SD(CAR_i, ddof = 1) / sqrt(N)); df N - 1."""
    stat, p = _cross_sectional_t(car[None, :])
    return stat[0], p[0]


def cumulated_daily(daily: Array, length: int) -> Tested:
    """Sum of a daily statistic over the window's days where it is defined / sqrt(L); standard normal, as in
    estudy2 (``car_brown_warner_1985`` and ``car_lamb``)."""
    defined = daily[~np.isnan(daily)]
    stat = np.array(defined.sum() / np.sqrt(length) if defined.size else np.nan)
    return stat, p_normal(stat)


def car_patell(scar: Array, t_obs: Array) -> Tested:
    """sum_i SCAR_i / sqrt(sum_i (T_i - 2)/(T_i - 4)); standard normal."""
    stat, p = patell(scar[None, :], t_obs)
    return stat[0], p[0]


def car_bmp(scar: Array) -> Tested:
    """Cross-sectional t of the SCAR_i; df N - 1."""
    return car_t_test(scar)


def car_patell_kolari_pynnonen(scar: Array, t_obs: Array, r_bar: float) -> Tested:
    """car_patell times sqrt(1 / (1 + (N - 1) r)); standard normal."""
    stat, p = patell_kolari_pynnonen(scar[None, :], t_obs, r_bar)
    return stat[0], p[0]


def car_bmp_kolari_pynnonen(scar: Array, r_bar: float) -> Tested:
    """car_bmp times sqrt((1 - r) / (1 + (N - 1) r)); df N - 1."""
    stat, p = bmp_kolari_pynnonen(scar[None, :], r_bar)
    return stat[0], p[0]


def car_grank(estimation_sar: Array, scar: Array) -> Tested:
    """Kolari & Pynnönen (2011) generalized rank test GRANK-T of a CAR window (docs/eventstudy.md, "GRANK").

    ``estimation_sar``: (dates of the union of the E_i, firms) SARs, NaN outside E_i; ``scar``: SCAR_i of the same
    firms, all present. The window is collapsed into one cumulative day carrying SCAR_i / SD(SCAR), whose ranks are
    compared with those of the estimation days: t = Z sqrt((T - 2) / (T - 1 - Z^2)), Student t with T - 2 df,
    T = estimation dates + 1. NaN with fewer than two firms (SD(SCAR) is cross-sectional).
    """
    nan = np.array(np.nan), np.array(np.nan)
    n = scar.size
    if n < 2:
        return nan
    spread = float(np.std(scar, ddof=1))
    if not spread > 0:
        return nan
    gsar = np.vstack([estimation_sar[present_count(estimation_sar) > 0], scar[None, :] / spread])
    t_i = present_count(gsar.T).astype(float)
    u = stats.rankdata(gsar, axis=0, nan_policy="omit") / (t_i + 1.0)[None, :] - 0.5
    u_bar = row_mean(u)
    dates = len(u_bar)
    s_u = np.sqrt(np.sum(present_count(u) / n * u_bar * u_bar) / dates)
    z = _ratio(np.array(u_bar[-1]), np.array(s_u))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = z * np.sqrt((dates - 2.0) / (dates - 1.0 - z * z))
    return stat, p_student(stat, dates - 2.0)


def bhar_t(bhar: Array) -> Tested:
    """Plain cross-sectional t of the mean BHAR; df N - 1."""
    return car_t_test(bhar)


def bhar_skew_t(bhar: Array) -> Tested:
    """Lyon, Barber & Tsai (1999) skewness-adjusted t: sqrt(n) (S + g S^2 / 3 + g / (6 n)); df N - 1.

    S = mean / SD (ddof = 1), g = sum (x - mean)^3 / (n SD^3), the sample skewness.
    """
    n = bhar.size
    sd = float(np.std(bhar, ddof=1)) if n > 1 else float("nan")
    if not sd > 0:
        return np.array(np.nan), np.array(np.nan)
    dev = bhar - bhar.mean()
    s = bhar.mean() / sd
    gamma = float(np.sum(dev**3)) / (n * sd**3)
    stat = np.array(np.sqrt(n) * (s + gamma * s * s / 3.0 + gamma / (6.0 * n)))
    return stat, p_student(stat, n - 1.0)
