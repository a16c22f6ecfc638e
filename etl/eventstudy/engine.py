"""Pure event-study engine: normal-return models, abnormal returns and every test of the method contract.

One call of :func:`run_event_study` handles one event (one day 0) for any number of firms. Everything
is vectorised over the ``(sessions, firms)`` matrix of the event, so a batch of events costs a few
milliseconds each. No I/O happens here; formulas and references are in docs/eventstudy.md.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from etl.eventstudy import statistics as st
from etl.eventstudy.windows import (
    DEFAULT_ESTIMATION,
    DEFAULT_EVENT_WINDOWS,
    DEFAULT_PATH_WINDOW,
    EventLayout,
    Span,
    WindowSpec,
    label_text,
    layout_event,
)

Model = Literal["market", "market_adjusted", "constant_mean"]
ReturnKind = Literal["simple", "log"]

DAILY_STATISTICS = (
    "t_test",
    "brown_warner_1980",
    "brown_warner_1985",
    "patell",
    "bmp",
    "sign",
    "generalized_sign",
    "rank",
    "wilcoxon",
)
"""Per-day statistics in their report order; ``bmp_kp`` is reported after them as an extra."""
CAR_STATISTICS = ("car_t_test", "car_brown_warner_1985", "car_patell", "car_bmp", "car_rank")
CROSS_SECTIONAL = ("t_test", "bmp", "bmp_kp", "car_t_test", "car_bmp")
"""Tests that need at least two firms; with one firm they are NaN (see the time-series t instead)."""
MIN_OBS_FLOOR = 5
"""Patell's (T_i - 2)/(T_i - 4) needs T_i > 4."""


@dataclass(frozen=True)
class EventStudyConfig:
    """How to run one event: model, return kind, windows and the minimum estimation sample."""

    model: Model = "market"
    returns_kind: ReturnKind = "simple"
    estimation: WindowSpec = DEFAULT_ESTIMATION
    event_windows: tuple[WindowSpec, ...] = DEFAULT_EVENT_WINDOWS
    min_obs: int = 60
    path_window: WindowSpec = DEFAULT_PATH_WINDOW

    def __post_init__(self) -> None:
        if self.model not in get_args(Model):
            raise ValueError(f"unknown model {self.model!r}; expected one of {get_args(Model)}")
        if self.returns_kind not in get_args(ReturnKind):
            raise ValueError(f"unknown returns kind {self.returns_kind!r}; expected simple or log")
        if self.min_obs < MIN_OBS_FLOOR:
            raise ValueError(f"min_obs must be at least {MIN_OBS_FLOOR} (Patell needs T_i > 4)")
        if not self.event_windows:
            raise ValueError("at least one event window is required")


@dataclass(frozen=True)
class Exclusion:
    """A firm left out of an event, with the reason shown to the user."""

    firm: str
    reason: str


@dataclass(frozen=True)
class NormalModelFit:
    """Per-firm parameters of the normal-return model: E[R_it] = alpha_i + beta_i * R_mt."""

    alpha: np.ndarray
    beta: np.ndarray
    r2: np.ndarray


@dataclass(frozen=True)
class EventStudyResult:
    """Everything one event produces. Labels are those of the returns index (dates or day numbers).

    - ``firms``: one row per included firm: T, alpha, beta, s, r2 and the first/last session of E_i.
    - ``daily``: one row per event-period session: n, aar, every statistic, ``*_p`` and ``*_stars``.
    - ``windows``: one row per event window: n, days (L), caar, mean_daily_aar, mean_bhar, CAR tests.
    - ``firm_windows``: firm x window: days with an AR, car, bhar, scar and the time-series t.
    - ``firm_daily``: firm x session over the path window (default [-10, +10]): ar, cumulative car,
      sar and the time-series t, for CAR charts.
    - ``abnormal``: AR of every included firm on every session from the earliest to the latest window.
    """

    model: Model
    returns_kind: ReturnKind
    day0: Hashable
    estimation_window: tuple[Hashable, Hashable]
    event_period: tuple[Hashable, Hashable]
    firms: pd.DataFrame
    daily: pd.DataFrame
    windows: pd.DataFrame
    firm_windows: pd.DataFrame
    firm_daily: pd.DataFrame
    abnormal: pd.DataFrame
    exclusions: tuple[Exclusion, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)


def returns_from_prices(
    prices: pd.Series | pd.DataFrame, kind: ReturnKind = "simple"
) -> pd.Series | pd.DataFrame:
    """Session-to-session returns of (adjusted) prices; ``kind`` is ``simple`` (default) or ``log``.

    A missing price stays missing: the returns into and out of that session are NaN, never a
    multi-session return and never a forward fill. The first session has no return.
    """
    values = prices.astype(float)
    if (values <= 0).to_numpy().any():
        raise ValueError("prices must be positive")
    ratio = values / values.shift(1)
    return np.log(ratio) if kind == "log" else ratio - 1.0


def fit_normal_model(r: np.ndarray, m: np.ndarray, sample: np.ndarray, model: Model) -> NormalModelFit:
    """Fit the model per firm (column) on the sessions where ``sample`` is True.

    R² is the OLS R² for ``market``, 0 for ``constant_mean`` (the R² of an intercept-only fit) and
    NaN for ``market_adjusted`` (nothing is fitted). For ``constant_mean`` alpha is mu_i and beta 0.
    """
    n = sample.sum(axis=0)
    y = np.where(sample, r, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = np.nansum(y, axis=0) / n
    if model == "market_adjusted":
        return NormalModelFit(np.zeros(r.shape[1]), np.ones(r.shape[1]), np.full(r.shape[1], np.nan))
    if model == "constant_mean":
        return NormalModelFit(y_mean, np.zeros(r.shape[1]), np.zeros(r.shape[1]))
    x = np.where(sample, m, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = np.nansum(x, axis=0) / n
        x_dev, y_dev = x - x_mean, y - y_mean
        sxx = np.nansum(x_dev * x_dev, axis=0)
        syy = np.nansum(y_dev * y_dev, axis=0)
        sxy = np.nansum(x_dev * y_dev, axis=0)
        beta = sxy / sxx
        alpha = y_mean - beta * x_mean
        r2 = sxy * sxy / (sxx * syy)
    return NormalModelFit(alpha, beta, r2)


def expected_returns(fit: NormalModelFit, m: np.ndarray, model: Model) -> np.ndarray:
    """Normal returns; ``constant_mean`` does not need the market, so it is defined without it."""
    if model == "constant_mean":
        return np.broadcast_to(fit.alpha, m.shape).copy()
    return fit.alpha[None, :] + fit.beta[None, :] * m


def _aligned(returns: pd.DataFrame, market: pd.Series | pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firm and market returns on the returns index, one market column per firm.

    The market is aligned by label without filling: a label it lacks is a missing market return.
    """
    if not isinstance(returns, pd.DataFrame) or returns.shape[1] == 0:
        raise ValueError("returns must be a DataFrame with one column per firm")
    if not returns.columns.is_unique:
        raise ValueError("returns has duplicate firm columns")
    if isinstance(market, pd.Series):
        column = market.reindex(returns.index).astype(float).to_numpy()
        bench = pd.DataFrame(
            np.repeat(column[:, None], returns.shape[1], axis=1), index=returns.index, columns=returns.columns
        )
    else:
        missing = [c for c in returns.columns if c not in market.columns]
        if missing:
            raise ValueError(f"market has no benchmark column for firms {missing}")
        bench = market[list(returns.columns)].reindex(returns.index).astype(float)
    returns = returns.astype(float)
    if np.isinf(returns.to_numpy()).any() or np.isinf(bench.to_numpy()).any():
        raise ValueError("returns must be finite numbers or NaN (missing)")
    return returns, bench


@dataclass(frozen=True)
class _Event:
    """Arrays of one event restricted to the included firms; rows are the sessions of the span."""

    labels: pd.Index
    rel_day: np.ndarray
    firms: list[str]
    r: np.ndarray
    expected: np.ndarray
    ar: np.ndarray
    sar: np.ndarray
    sample: np.ndarray
    t_obs: np.ndarray
    s: np.ndarray
    kind: ReturnKind


DEGENERATE_S = 1e-10
"""s_i at or below this fraction of the SD of R_it means the model reproduces the firm exactly."""


def _exclusions(
    firms: list[str],
    t_obs: np.ndarray,
    fit: NormalModelFit,
    s: np.ndarray,
    r_sd: np.ndarray,
    config: EventStudyConfig,
    est_text: str,
) -> list[Exclusion]:
    """Firms that cannot be tested: too short an estimation sample, or a degenerate model fit."""
    out = []
    for i, firm in enumerate(firms):
        if t_obs[i] < config.min_obs:
            reason = (
                f"only {t_obs[i]} sessions with both firm and market returns in the estimation "
                f"window {est_text} (minimum {config.min_obs})"
            )
        elif not np.isfinite(fit.beta[i]):
            reason = "the market return is constant over the estimation sample, so beta is undefined"
        elif not s[i] > DEGENERATE_S * r_sd[i]:
            reason = (
                "abnormal returns are (numerically) constant over the estimation sample (s = 0), e.g. "
                "the firm's returns equal its benchmark; standardized tests are undefined"
            )
        else:
            continue
        out.append(Exclusion(firm, reason))
    return out


def _patell_scale(m: np.ndarray, est_rows: np.ndarray, t_obs: np.ndarray, model: Model) -> np.ndarray:
    """sqrt(1 + 1/T_i + (R_mt - mean R_m)^2 / SS_m); the market term only for the market model.

    Mean and sum of squares use the market returns of the whole estimation window (every session
    of it with a market return), the same set for every firm sharing that benchmark.
    """
    scale = 1.0 + 1.0 / t_obs[None, :]
    if model == "market":
        m_est = np.where(est_rows[:, None], m, np.nan)
        count = np.sum(~np.isnan(m_est), axis=0)
        mean = np.nansum(m_est, axis=0) / count
        ss = np.nansum((m_est - mean) ** 2, axis=0)
        scale = scale + (m - mean) ** 2 / ss
    return np.sqrt(scale)


def _stat_columns(tests: dict[str, st.Tested]) -> dict[str, np.ndarray]:
    """Statistic, ``_p`` and ``_stars`` columns, grouped in that order."""
    cols = {name: np.asarray(stat, dtype=float) for name, (stat, _) in tests.items()}
    cols |= {f"{name}_p": np.asarray(p, dtype=float) for name, (_, p) in tests.items()}
    cols |= {f"{name}_stars": st.stars(p) for name, (_, p) in tests.items()}
    return cols


def _rank_matrix(ev: _Event, event_rows: np.ndarray) -> np.ndarray:
    """Corrado ranks on F_i = E_i plus the event-period sessions where AR_it exists."""
    in_f = ev.sample.copy()
    in_f[event_rows] |= ~np.isnan(ev.ar[event_rows])
    return st.corrado_ranks(np.where(in_f, ev.ar, np.nan))


def _daily(ev: _Event, event_rows: np.ndarray, ranks: np.ndarray, mean_t: float) -> pd.DataFrame:
    ar, sar = ev.ar[event_rows], ev.sar[event_rows]
    est_ar = np.where(ev.sample, ev.ar, np.nan)
    p_hat = float(np.sum(est_ar > 0) / ev.sample.sum()) if ev.firms else float("nan")
    tests = {
        "t_test": st.t_test(ar),
        "brown_warner_1980": st.brown_warner_1980(ar, ev.s, mean_t),
        "brown_warner_1985": st.brown_warner_1985(ar, st.brown_warner_1985_sd(est_ar), mean_t),
        "patell": st.patell(sar, ev.t_obs),
        "bmp": st.bmp(sar),
        "sign": st.sign_test(ar),
        "generalized_sign": st.generalized_sign_test(ar, p_hat),
        "rank": st.corrado_rank_test(ranks, event_rows),
        "wilcoxon": st.wilcoxon_test(ar),
        "bmp_kp": st.bmp_kolari_pynnonen(sar, st.mean_pairwise_correlation(est_ar)),
    }
    head = {
        "session": ev.labels[event_rows],
        "relative_day": ev.rel_day[event_rows],
        "n": st.present_count(ar),
        "aar": st.row_mean(ar),
    }
    return pd.DataFrame(head | _stat_columns(tests))


def _gross(values: np.ndarray, kind: ReturnKind) -> np.ndarray:
    """1 + simple return; log returns are converted with exp(r) - 1 first (for BHAR only)."""
    return np.exp(values) if kind == "log" else 1.0 + values


def _window(
    ev: _Event, rows: np.ndarray, daily_bw1985: np.ndarray, ranks: np.ndarray, mean_t: float
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """CAR statistics of one window and the per-firm CAR/BHAR columns (firms with an AR in it)."""
    ar, sar = ev.ar[rows], ev.sar[rows]
    present = ~np.isnan(ar)
    days_i = present.sum(axis=0)
    has = days_i > 0
    length = len(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        car = np.where(has, np.nansum(ar, axis=0), np.nan)
        scar = np.where(has, np.nansum(sar, axis=0) / np.sqrt(days_i), np.nan)
        bhar = np.where(
            has,
            np.prod(np.where(present, _gross(ev.r[rows], ev.kind), 1.0), axis=0)
            - np.prod(np.where(present, _gross(ev.expected[rows], ev.kind), 1.0), axis=0),
            np.nan,
        )
        car_t = car / (ev.s * np.sqrt(days_i))
    car_t_p = st.p_student(car_t, ev.t_obs - 1.0)
    tests = {
        "car_t_test": st.car_t_test(car[has]),
        "car_brown_warner_1985": st.car_brown_warner_1985(daily_bw1985, length),
        "car_patell": st.car_patell(scar[has], ev.t_obs[has]),
        "car_bmp": st.car_bmp(scar[has]),
        "car_rank": st.car_rank_test(ranks, rows, length),
    }
    caar = float(car[has].mean()) if has.any() else float("nan")
    summary: dict[str, object] = {
        "n": int(has.sum()),
        "days": length,
        "caar": caar,
        "mean_daily_aar": caar / length,
        "mean_bhar": float(bhar[has].mean()) if has.any() else float("nan"),
    }
    summary |= {k: v.item() if isinstance(v, np.ndarray) else v for k, v in _stat_columns(tests).items()}
    firms = {
        "firm": np.array(ev.firms, dtype=object),
        "days": days_i,
        "car": car,
        "bhar": bhar,
        "scar": scar,
        "car_t": car_t,
        "car_t_p": car_t_p,
        "car_t_stars": st.stars(car_t_p),
    }
    return summary, {name: values[has] for name, values in firms.items()}


def _windows(
    ev: _Event,
    layout: EventLayout,
    specs: tuple[WindowSpec, ...],
    lo: int,
    daily: pd.DataFrame,
    ranks: np.ndarray,
    mean_t: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    summaries, firm_parts = [], []
    for spec, (first, last) in zip(specs, layout.windows, strict=True):
        rows = np.arange(first - lo, last - lo + 1)
        bw = daily["brown_warner_1985"].to_numpy()[rows - (layout.event_period[0] - lo)]
        summary, firms = _window(ev, rows, bw, ranks, mean_t)
        head = {
            "window": str(spec),
            "window_start": ev.labels[rows[0]],
            "window_end": ev.labels[rows[-1]],
            "start_day": int(ev.rel_day[rows[0]]),
            "end_day": int(ev.rel_day[rows[-1]]),
        }
        summaries.append(head | summary)
        firm_parts.append({"window": np.full(len(firms["firm"]), str(spec), dtype=object)} | firms)
    columns = {name: np.concatenate([part[name] for part in firm_parts]) for name in firm_parts[0]}
    return pd.DataFrame(summaries), pd.DataFrame(columns)


def _firm_daily(ev: _Event, path: Span, lo: int) -> pd.DataFrame:
    """Long table of the path window; ``car`` cumulates from the window start, NaN on missing days."""
    rows = np.arange(path[0] - lo, path[1] - lo + 1)
    ar = ev.ar[rows]
    ar_t = ar / ev.s[None, :]
    car = np.where(np.isnan(ar), np.nan, np.nancumsum(ar, axis=0))
    n_rows, n_firms = ar.shape
    return pd.DataFrame(
        {
            "firm": np.repeat(np.array(ev.firms, dtype=object), n_rows),
            "session": np.tile(ev.labels[rows], n_firms),
            "relative_day": np.tile(ev.rel_day[rows], n_firms),
            "ar": ar.T.ravel(),
            "car": car.T.ravel(),
            "sar": ev.sar[rows].T.ravel(),
            "ar_t": ar_t.T.ravel(),
            "ar_t_p": st.p_student(ar_t, np.broadcast_to(ev.t_obs - 1.0, ar.shape)).T.ravel(),
        }
    )


def _firms_table(
    firms: list[str],
    keep: np.ndarray,
    t_obs: np.ndarray,
    fit: NormalModelFit,
    s: np.ndarray,
    sample: np.ndarray,
    labels: pd.Index,
) -> pd.DataFrame:
    first = [labels[np.flatnonzero(sample[:, i])[0]] for i in np.flatnonzero(keep)]
    last = [labels[np.flatnonzero(sample[:, i])[-1]] for i in np.flatnonzero(keep)]
    return pd.DataFrame(
        {
            "firm": [firms[i] for i in np.flatnonzero(keep)],
            "T": t_obs[keep],
            "alpha": fit.alpha[keep],
            "beta": fit.beta[keep],
            "s": s[keep],
            "r2": fit.r2[keep],
            "first_obs": first,
            "last_obs": last,
        }
    )


def _prepare(
    returns: pd.DataFrame, bench: pd.DataFrame, layout: EventLayout, config: EventStudyConfig
) -> tuple[_Event, pd.DataFrame, list[Exclusion]]:
    """Fit the model, compute AR/SAR on the span of the event and drop the excluded firms."""
    lo, hi = layout.span
    labels = returns.index[lo : hi + 1]
    r = returns.to_numpy()[lo : hi + 1]
    m = bench.to_numpy()[lo : hi + 1]
    est_rows = np.zeros(len(labels), dtype=bool)
    est_rows[layout.estimation[0] - lo : layout.estimation[1] - lo + 1] = True
    sample = est_rows[:, None] & ~np.isnan(r) & ~np.isnan(m)
    t_obs = sample.sum(axis=0)
    fit = fit_normal_model(r, m, sample, config.model)
    expected = expected_returns(fit, m, config.model)
    ar = r - expected
    s = st.row_sd(np.where(sample, ar, np.nan).T)
    firms = [str(c) for c in returns.columns]
    est_text = f"{label_text(labels[est_rows][0])}..{label_text(labels[est_rows][-1])}"
    r_sd = st.row_sd(np.where(sample, r, np.nan).T)
    exclusions = _exclusions(firms, t_obs, fit, s, r_sd, config, est_text)
    excluded = {e.firm for e in exclusions}
    keep = np.array([f not in excluded for f in firms])
    t_kept = t_obs[keep].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sar = ar[:, keep] / (s[keep][None, :] * _patell_scale(m[:, keep], est_rows, t_kept, config.model))
    ev = _Event(
        labels,
        np.arange(lo, hi + 1) - layout.day0,
        [f for f in firms if f not in excluded],
        r[:, keep],
        expected[:, keep],
        ar[:, keep],
        sar,
        sample[:, keep],
        t_kept,
        s[keep],
        config.returns_kind,
    )
    return ev, _firms_table(firms, keep, t_obs, fit, s, sample, labels), exclusions


def run_event_study(
    returns: pd.DataFrame,
    market: pd.Series | pd.DataFrame,
    day0: Hashable,
    config: EventStudyConfig | None = None,
) -> EventStudyResult:
    """Run one event study around ``day0`` for every firm (column) of ``returns``.

    ``returns``: index = ordered session labels (dates or relative day numbers), one column per
    firm, NaN = missing. ``market``: one Series on the same index, or a DataFrame with a column of
    the same name per firm (each firm's own benchmark). Both are read as ``config.returns_kind``.
    Firms with too short an estimation sample are excluded with a reason, never dropped silently;
    if every firm is excluded the tables hold NaN statistics with n = 0.
    """
    config = config or EventStudyConfig()
    returns, bench = _aligned(returns, market)
    layout = layout_event(returns.index, day0, config.estimation, config.event_windows, config.path_window)
    ev, firms_table, exclusions = _prepare(returns, bench, layout, config)
    notes = list(layout.notes)
    if not ev.firms:
        notes.append("every firm is excluded; no statistic can be computed")
    elif len(ev.firms) == 1:
        notes.append(
            "a single firm: the cross-sectional tests (" + ", ".join(CROSS_SECTIONAL) + ") are "
            "not applicable (NaN); use the time-series t (ar_t, car_t; Student t, df T_i - 1)"
        )
    lo = layout.span[0]
    event_rows = np.arange(layout.event_period[0] - lo, layout.event_period[1] - lo + 1)
    ranks = _rank_matrix(ev, event_rows)
    mean_t = float(ev.t_obs.mean()) if ev.firms else float("nan")
    daily = _daily(ev, event_rows, ranks, mean_t)
    windows, firm_windows = _windows(ev, layout, config.event_windows, lo, daily, ranks, mean_t)
    index = returns.index
    return EventStudyResult(
        model=config.model,
        returns_kind=config.returns_kind,
        day0=index[layout.day0],
        estimation_window=(index[layout.estimation[0]], index[layout.estimation[1]]),
        event_period=(index[layout.event_period[0]], index[layout.event_period[1]]),
        firms=firms_table,
        daily=daily,
        windows=windows,
        firm_windows=firm_windows,
        firm_daily=_firm_daily(ev, layout.path, lo),
        abnormal=pd.DataFrame(ev.ar, index=ev.labels, columns=ev.firms),
        exclusions=tuple(exclusions),
        notes=tuple(notes),
    )
