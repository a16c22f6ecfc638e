"""Pure event-study engine: one event's abnormal returns and every test of the method contract.

One call of :func:`run_event_study` handles one event (one day 0) for any number of firms: it lays the event out
(``windows.py``), fits the normal-return model (``models.py``), excludes the firms that cannot be tested, and runs
the test battery (``battery.py``). Everything is vectorised over the ``(sessions, firms)`` matrix of the event, so
a batch of events costs a few milliseconds each. No I/O happens here; formulas and references are in
docs/eventstudy.md.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import get_args

import numpy as np
import pandas as pd

from etl.eventstudy import statistics as st
from etl.eventstudy.battery import PreparedEvent, ar_in_f, daily_tests, window_tests
from etl.eventstudy.models import (
    Model,
    NormalModelFit,
    ReturnKind,
    expected_returns,
    fit_normal_model,
    market_term,
    patell_scale,
)
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
    "lamb",
    "corrado_sign",
    "modified_rank",
    "patell_kp",
    "bmp_kp",
)
"""Per-day statistics in their report order (the later additions after estudy2's first nine)."""
CAR_STATISTICS = (
    "car_t_test",
    "car_brown_warner_1985",
    "car_patell",
    "car_bmp",
    "car_rank",
    "car_lamb",
    "car_patell_kp",
    "car_bmp_kp",
    "car_grank",
    "bhar_t",
    "bhar_skew_t",
)
"""Per-window statistics of the CARs, then of the BHARs, in their report order."""
CROSS_SECTIONAL = ("t_test", "patell_kp", "bmp", "bmp_kp", "car_t_test", "car_patell_kp", "car_bmp", "car_bmp_kp",
                   "car_grank", "bhar_t", "bhar_skew_t")
"""Tests that need at least two firms (a spread across firms, or r̄); with one firm they are NaN (see the
time-series t instead)."""
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
class EventStudyResult:
    """Everything one event produces. Labels are those of the returns index (dates or day numbers).

    - ``firms``: one row per included firm: T, alpha, beta, s, r2 and the first/last session of E_i.
    - ``daily``: one row per event-period session: n, aar, r_bar, every statistic, ``*_p`` and ``*_stars``.
    - ``windows``: one row per event window: n, days (L), caar, mean_daily_aar, bhar_mean, r_bar, CAR and BHAR tests.
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


def _firm_daily(ev: PreparedEvent, path: Span, lo: int) -> pd.DataFrame:
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
) -> tuple[PreparedEvent, pd.DataFrame, list[Exclusion]]:
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
        term = market_term(m[:, keep], est_rows, config.model)
        sar = ar[:, keep] / (s[keep][None, :] * patell_scale(term, t_kept))
    ev = PreparedEvent(
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
        term,
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
            "a single firm: the tests that need two or more firms (" + ", ".join(CROSS_SECTIONAL) + ") are "
            "not applicable (NaN); use the time-series t (ar_t, car_t; Student t, df T_i - 1)"
        )
    lo = layout.span[0]
    event_rows = np.arange(layout.event_period[0] - lo, layout.event_period[1] - lo + 1)
    ar_f = ar_in_f(ev, event_rows)
    ranks = st.corrado_ranks(ar_f)
    mean_t = float(ev.t_obs.mean()) if ev.firms else float("nan")
    r_bar = st.mean_pairwise_correlation(np.where(ev.sample, ev.ar, np.nan))
    daily = daily_tests(ev, event_rows, ar_f, ranks, mean_t, r_bar)
    windows, firm_windows = window_tests(ev, layout, config.event_windows, lo, daily, ranks, r_bar)
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
