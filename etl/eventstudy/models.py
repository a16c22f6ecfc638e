"""Normal-return models of the event-study engine: returns from prices, the per-firm fit, the expected returns,
and the Patell scale that depends on the model (formulas in docs/eventstudy.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Model = Literal["market", "market_adjusted", "constant_mean"]
ReturnKind = Literal["simple", "log"]


@dataclass(frozen=True)
class NormalModelFit:
    """Per-firm parameters of the normal-return model: E[R_it] = alpha_i + beta_i * R_mt."""

    alpha: np.ndarray
    beta: np.ndarray
    r2: np.ndarray


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


def market_term(m: np.ndarray, est_rows: np.ndarray, model: Model) -> np.ndarray:
    """(R_mt - mean R_m)^2 / SS_m, the OLS forecast's market term; zero unless the model is ``market``.

    Mean and sum of squares use the market returns of the whole estimation window (every session
    of it with a market return), the same set for every firm sharing that benchmark.
    """
    if model != "market":
        return np.zeros(m.shape)
    m_est = np.where(est_rows[:, None], m, np.nan)
    count = np.sum(~np.isnan(m_est), axis=0)
    mean = np.nansum(m_est, axis=0) / count
    ss = np.nansum((m_est - mean) ** 2, axis=0)
    return (m - mean) ** 2 / ss


def patell_scale(term: np.ndarray, t_obs: np.ndarray) -> np.ndarray:
    """sqrt(1 + 1/T_i + market term): the standard deviation of an abnormal return in units of s_i."""
    return np.sqrt(1.0 + 1.0 / t_obs[None, :] + term)
