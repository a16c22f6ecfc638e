"""Hand computation of every event-study statistic, written out loop by loop from the spec.

Deliberately independent of etl.eventstudy: plain Python loops over firms and days, explicit OLS
sums, ranks by sorting, and the Wilcoxon p-value by brute-force enumeration of all sign patterns.
Only scipy's distribution functions are shared (for p-values).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats


def is_missing(value: float) -> bool:
    return value is None or math.isnan(value)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def sample_sd(values: list[float]) -> float:
    if len(values) < 2:
        return math.nan
    mu = mean(values)
    return math.sqrt(sum((v - mu) ** 2 for v in values) / (len(values) - 1))


def average_ranks(values: list[float]) -> list[float]:
    """Ranks 1..n with ties sharing the average of the ranks they occupy."""
    order = sorted(range(len(values)), key=lambda k: values[k])
    ranks = [0.0] * len(values)
    pos = 0
    while pos < len(order):
        end = pos
        while end + 1 < len(order) and values[order[end + 1]] == values[order[pos]]:
            end += 1
        shared = (pos + 1 + end + 1) / 2.0
        for k in range(pos, end + 1):
            ranks[order[k]] = shared
        pos = end + 1
    return ranks


def brute_force_signed_rank_p(ranks: list[float], w: float) -> float:
    """Exact two-sided p by enumerating all 2^n sign assignments."""
    totals = [
        sum(r for r, positive in zip(ranks, signs, strict=True) if positive)
        for signs in itertools.product([False, True], repeat=len(ranks))
    ]
    lower = sum(1 for t in totals if t <= w + 1e-12) / len(totals)
    upper = sum(1 for t in totals if t >= w - 1e-12) / len(totals)
    return min(1.0, 2.0 * min(lower, upper))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def sign(value: float) -> float:
    return 1.0 if value > 0 else -1.0 if value < 0 else 0.0


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = mean(x), mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def grank_t(estimation_sar: list[dict[int, float]], scar: list[float]) -> tuple[float, float]:
    """Kolari & Pynnönen (2011) GRANK-T from per-firm {estimation date: SAR} and each firm's SCAR."""
    n = len(scar)
    spread = sample_sd(scar)
    columns = []
    for sars, value in zip(estimation_sar, scar, strict=True):
        dates = sorted(sars)
        gsar = [sars[d] for d in dates] + [value / spread]
        ranks = average_ranks(gsar)
        columns.append({d: r / (len(gsar) + 1) - 0.5 for d, r in zip([*dates, "event"], ranks, strict=True)})
    days = [*sorted({d for c in columns for d in c if d != "event"}), "event"]
    total = 0.0
    for day in days:
        us = [c[day] for c in columns if day in c]
        total += len(us) / n * mean(us) ** 2
    s_u = math.sqrt(total / len(days))
    z = mean([c["event"] for c in columns]) / s_u
    t = z * math.sqrt((len(days) - 2) / (len(days) - 1 - z * z))
    return t, p_t(t, len(days) - 2)


def skewness_adjusted_t(x: list[float]) -> tuple[float, float]:
    """Lyon, Barber & Tsai (1999): sqrt(n) (S + g S^2 / 3 + g / (6 n)), t with n - 1 df."""
    n = len(x)
    mu, sd = mean(x), sample_sd(x)
    s = mu / sd
    g = sum((v - mu) ** 3 for v in x) / (n * sd**3)
    t = math.sqrt(n) * (s + g * s * s / 3 + g / (6 * n))
    return t, p_t(t, n - 1)


def p_t(stat: float, df: float) -> float:
    return 2.0 * stats.t.sf(abs(stat), df) if df > 0 and not math.isnan(stat) else math.nan


def p_z(stat: float) -> float:
    return 2.0 * stats.norm.sf(abs(stat))


class HandStudy:
    """One event computed by hand. ``R``: days x firms, ``M``: days, ``rel``: relative day per row."""

    def __init__(
        self,
        R: np.ndarray,
        M: np.ndarray,
        rel: list[int],
        estimation: tuple[int, int],
        windows: list[tuple[int, int]],
        model: str = "market",
        log_returns: bool = False,
    ) -> None:
        self.R, self.M, self.rel = R, M, list(rel)
        self.log_returns = log_returns
        self.n_firms = R.shape[1]
        self.model = model
        self.windows = windows
        self.est_rows = [k for k, d in enumerate(self.rel) if estimation[0] <= d <= estimation[1]]
        lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
        self.event_rows = [k for k, d in enumerate(self.rel) if lo <= d <= hi]
        self.E, self.T, self.alpha, self.beta, self.r2, self.s = [], [], [], [], [], []
        self.AR = np.full(R.shape, np.nan)
        self.EXP = np.full(R.shape, np.nan)
        for i in range(self.n_firms):
            self._fit_firm(i)
        market_est = [M[k] for k in self.est_rows if not is_missing(M[k])]
        self.m_bar = mean(market_est)
        self.m_ss = sum((v - self.m_bar) ** 2 for v in market_est)
        self.SAR = np.full(R.shape, np.nan)
        for i in range(self.n_firms):
            for k in range(len(self.rel)):
                if not is_missing(self.AR[k, i]):
                    c = 1.0 + 1.0 / self.T[i] + self.market_term(k)
                    self.SAR[k, i] = self.AR[k, i] / (self.s[i] * math.sqrt(c))

    def market_term(self, k: int) -> float:
        return (self.M[k] - self.m_bar) ** 2 / self.m_ss if self.model == "market" else 0.0

    def _fit_firm(self, i: int) -> None:
        rows = [k for k in self.est_rows if not is_missing(self.R[k, i]) and not is_missing(self.M[k])]
        x = [self.M[k] for k in rows]
        y = [self.R[k, i] for k in rows]
        if self.model == "market":
            x_bar, y_bar = mean(x), mean(y)
            sxy = sum((a - x_bar) * (b - y_bar) for a, b in zip(x, y, strict=True))
            sxx = sum((a - x_bar) ** 2 for a in x)
            syy = sum((b - y_bar) ** 2 for b in y)
            beta = sxy / sxx
            alpha = y_bar - beta * x_bar
            r2 = sxy**2 / (sxx * syy)
        elif self.model == "market_adjusted":
            alpha, beta, r2 = 0.0, 1.0, math.nan
        else:
            alpha, beta, r2 = mean(y), 0.0, 0.0
        for k in range(len(self.rel)):
            expected = alpha if self.model == "constant_mean" else alpha + beta * self.M[k]
            self.EXP[k, i] = expected
            self.AR[k, i] = self.R[k, i] - expected
        self.E.append(rows)
        self.T.append(len(rows))
        self.alpha.append(alpha)
        self.beta.append(beta)
        self.r2.append(r2)
        self.s.append(sample_sd([self.AR[k, i] for k in rows]))

    # ---- per-day statistics -------------------------------------------------------------------
    def present(self, k: int) -> list[int]:
        return [i for i in range(self.n_firms) if not is_missing(self.AR[k, i])]

    def mean_t(self) -> float:
        return mean(self.T)

    def daily(self, k: int) -> dict[str, float]:
        firms = self.present(k)
        n = len(firms)
        ars = [self.AR[k, i] for i in firms]
        sars = [self.SAR[k, i] for i in firms]
        aar = mean(ars)
        out = {"n": n, "aar": aar}
        out["t_test"] = aar / (sample_sd(ars) / math.sqrt(n))
        out["t_test_p"] = p_t(out["t_test"], n - 1)
        out["brown_warner_1980"] = aar / (math.sqrt(sum(self.s[i] ** 2 for i in firms)) / n)
        out["brown_warner_1980_p"] = p_t(out["brown_warner_1980"], self.mean_t() - 1)
        out["brown_warner_1985"] = aar / self.bw1985_sd()
        out["brown_warner_1985_p"] = p_t(out["brown_warner_1985"], self.mean_t() - 1)
        out["patell"] = sum(sars) / math.sqrt(sum((self.T[i] - 2) / (self.T[i] - 4) for i in firms))
        out["patell_p"] = p_z(out["patell"])
        out["bmp"] = mean(sars) / (sample_sd(sars) / math.sqrt(n))
        out["bmp_p"] = p_t(out["bmp"], n - 1)
        n_pos = sum(1 for a in ars if a > 0)
        out["sign"] = (n_pos - 0.5 * n) / math.sqrt(0.25 * n)
        out["sign_p"] = p_z(out["sign"])
        p_hat = self.p_hat()
        out["generalized_sign"] = (n_pos - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
        out["generalized_sign_p"] = p_z(out["generalized_sign"])
        ranks, days, f_sizes = self.corrado()
        k_bar_i = [mean(list(ranks[i].values())) for i in range(self.n_firms)]
        d = {t: mean([ranks[i][t] - k_bar_i[i] for i in range(self.n_firms) if t in ranks[i]]) for t in days}
        sd = math.sqrt(sum(v**2 for v in d.values()) / mean(f_sizes))
        out["rank"] = d[k] / sd
        out["rank_p"] = p_z(out["rank"])
        nonzero = [a for a in ars if a != 0]
        abs_ranks = average_ranks([abs(a) for a in nonzero])
        w = sum(r for r, a in zip(abs_ranks, nonzero, strict=True) if a > 0)
        out["wilcoxon"] = w
        out["wilcoxon_p"] = brute_force_signed_rank_p(abs_ranks, w)
        out["lamb"] = aar / (self.bw1985_sd() * math.sqrt(1 + 1 / self.mean_t() + self.market_term(k)))
        out["lamb_p"] = p_z(out["lamb"])
        out["corrado_sign"] = self.corrado_sign(k)
        out["corrado_sign_p"] = p_z(out["corrado_sign"])
        out["modified_rank"] = self.modified_rank(k)
        out["modified_rank_p"] = p_z(out["modified_rank"])
        r_bar = self.r_bar()
        out["r_bar"] = r_bar
        out["patell_kp"] = out["patell"] * math.sqrt(1 / (1 + (n - 1) * r_bar))
        out["patell_kp_p"] = p_z(out["patell_kp"])
        out["bmp_kp"] = out["bmp"] * math.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
        out["bmp_kp_p"] = p_t(out["bmp_kp"], n - 1)
        return out

    def r_bar(self) -> float:
        """Mean Pearson correlation of estimation ARs over firm pairs (sessions in both E_i, at least 3)."""
        pairs = []
        for i in range(self.n_firms):
            for j in range(i + 1, self.n_firms):
                common = [t for t in self.E[i] if t in self.E[j]]
                if len(common) >= 3:
                    pairs.append(pearson([self.AR[t, i] for t in common], [self.AR[t, j] for t in common]))
        return mean(pairs) if pairs else math.nan

    def f_rows(self, i: int) -> list[int]:
        return sorted(set(self.E[i]) | {k for k in self.event_rows if not is_missing(self.AR[k, i])})

    def corrado_sign(self, k: int) -> float:
        """Corrado & Zivney (1992): signs of AR minus the firm's median over F_i."""
        signs, sizes = [], []
        for i in range(self.n_firms):
            rows = self.f_rows(i)
            m = median([self.AR[t, i] for t in rows])
            signs.append({t: sign(self.AR[t, i] - m) for t in rows})
            sizes.append(len(rows))
        scaled = {}
        for t in sorted({t for firm in signs for t in firm}):
            present = [firm[t] for firm in signs if t in firm]
            scaled[t] = sum(present) / math.sqrt(len(present))
        sd = math.sqrt(sum(v**2 for v in scaled.values()) / mean(sizes))
        return scaled[k] / sd

    def modified_rank(self, k: int) -> float:
        """Corrado & Zivney (1992) standardized ranks K / (1 + |F_i|)."""
        ranks, days, sizes = self.corrado()
        scaled = {}
        for t in days:
            present = [ranks[i][t] / (1 + sizes[i]) - 0.5 for i in range(self.n_firms) if t in ranks[i]]
            scaled[t] = sum(present) / math.sqrt(len(present))
        sd = math.sqrt(sum(v**2 for v in scaled.values()) / mean(sizes))
        return scaled[k] / sd

    def bw1985_sd(self) -> float:
        taus = sorted({k for rows in self.E for k in rows})
        abar = [mean([self.AR[t, i] for i in range(self.n_firms) if t in self.E[i]]) for t in taus]
        return sample_sd(abar)

    def p_hat(self) -> float:
        positives = sum(1 for i in range(self.n_firms) for t in self.E[i] if self.AR[t, i] > 0)
        return positives / sum(self.T)

    def corrado(self) -> tuple[list[dict[int, float]], list[int], list[int]]:
        """Per firm: {row: rank within F_i}; the union of dates; the sizes |F_i|."""
        ranks, union, sizes = [], set(), []
        for i in range(self.n_firms):
            f_rows = sorted(set(self.E[i]) | {k for k in self.event_rows if not is_missing(self.AR[k, i])})
            r = average_ranks([self.AR[k, i] for k in f_rows])
            ranks.append(dict(zip(f_rows, r, strict=True)))
            union |= set(f_rows)
            sizes.append(len(f_rows))
        return ranks, sorted(union), sizes

    # ---- cumulative statistics ----------------------------------------------------------------
    def window_rows(self, window: tuple[int, int]) -> list[int]:
        return [k for k, d in enumerate(self.rel) if window[0] <= d <= window[1]]

    def firm_car(self, i: int, window: tuple[int, int], log_returns: bool | None = None) -> dict[str, float]:
        log_returns = self.log_returns if log_returns is None else log_returns
        rows = [k for k in self.window_rows(window) if not is_missing(self.AR[k, i])]
        car = sum(self.AR[k, i] for k in rows)
        scar = sum(self.SAR[k, i] for k in rows) / math.sqrt(len(rows))
        if log_returns:
            bhar = math.exp(sum(self.R[k, i] for k in rows)) - math.exp(sum(self.EXP[k, i] for k in rows))
        else:
            bhar = math.prod(1 + self.R[k, i] for k in rows) - math.prod(1 + self.EXP[k, i] for k in rows)
        car_t = car / (self.s[i] * math.sqrt(len(rows)))
        return {
            "days": len(rows),
            "car": car,
            "scar": scar,
            "bhar": bhar,
            "car_t": car_t,
            "car_t_p": p_t(car_t, self.T[i] - 1),
        }

    def window(self, window: tuple[int, int]) -> dict[str, float]:
        rows = self.window_rows(window)
        length = len(rows)
        firms = [i for i in range(self.n_firms) if any(not is_missing(self.AR[k, i]) for k in rows)]
        per_firm = [self.firm_car(i, window) for i in firms]
        cars = [f["car"] for f in per_firm]
        scars = [f["scar"] for f in per_firm]
        n = len(firms)
        caar = mean(cars)
        out = {
            "n": n,
            "days": length,
            "caar": caar,
            "mean_daily_aar": caar / length,
            "bhar_mean": mean([f["bhar"] for f in per_firm]),
        }
        out["car_t_test"] = caar / (sample_sd(cars) / math.sqrt(n))
        out["car_t_test_p"] = p_t(out["car_t_test"], n - 1)
        daily_bw = [self.daily(k)["brown_warner_1985"] for k in rows]
        out["car_brown_warner_1985"] = sum(daily_bw) / math.sqrt(length)
        out["car_brown_warner_1985_p"] = p_z(out["car_brown_warner_1985"])
        out["car_patell"] = sum(scars) / math.sqrt(sum((self.T[i] - 2) / (self.T[i] - 4) for i in firms))
        out["car_patell_p"] = p_z(out["car_patell"])
        out["car_bmp"] = mean(scars) / (sample_sd(scars) / math.sqrt(n))
        out["car_bmp_p"] = p_t(out["car_bmp"], n - 1)
        ranks, days, f_sizes = self.corrado()
        k_bar = mean([mean(list(ranks[i].values())) for i in range(self.n_firms)])
        k_bar_t = {t: mean([ranks[i][t] for i in range(self.n_firms) if t in ranks[i]]) for t in days}
        k_window = mean([k_bar_t[t] for t in rows if t in k_bar_t])
        scale = math.sqrt(sum((v - k_bar) ** 2 for v in k_bar_t.values()) / mean(f_sizes))
        out["car_rank"] = math.sqrt(length) * (k_window - k_bar) / scale
        out["car_rank_p"] = p_z(out["car_rank"])
        out["car_lamb"] = sum(self.daily(k)["lamb"] for k in rows) / math.sqrt(length)
        out["car_lamb_p"] = p_z(out["car_lamb"])
        r_bar = self.r_bar()
        out["r_bar"] = r_bar
        out["car_patell_kp"] = out["car_patell"] / math.sqrt(1 + (n - 1) * r_bar)
        out["car_patell_kp_p"] = p_z(out["car_patell_kp"])
        out["car_bmp_kp"] = out["car_bmp"] * math.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
        out["car_bmp_kp_p"] = p_t(out["car_bmp_kp"], n - 1)
        estimation_sar = [{t: self.SAR[t, i] for t in self.E[i]} for i in firms]
        out["car_grank"], out["car_grank_p"] = grank_t(estimation_sar, scars)
        bhars = [f["bhar"] for f in per_firm]
        out["bhar_t"] = mean(bhars) / (sample_sd(bhars) / math.sqrt(n))
        out["bhar_t_p"] = p_t(out["bhar_t"], n - 1)
        out["bhar_skew_t"], out["bhar_skew_t_p"] = skewness_adjusted_t(bhars)
        return out
