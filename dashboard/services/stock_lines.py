"""A provider's stock as a line next to its spend: raw close, cumulative total return, or cumulative abnormal
return (CAR) against a benchmark.

The CAR line uses the event-study engine's primitives (:func:`~etl.eventstudy.models.returns_from_prices`,
``fit_normal_model``, ``expected_returns``) with "day 0" being the first session of the range: the market
model is fitted over the sessions of the ``eventstudy.estimation`` setting before it, and needs
``eventstudy.min_obs`` of them (README "Dashboard" gives the conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from dashboard.queries.market import closes
from dashboard.queries.reader import Reader
from dashboard.services.settings import StudyConfig
from etl.eventstudy.models import expected_returns, fit_normal_model, returns_from_prices
from etl.eventstudy.windows import LabelWindow, OffsetWindow, resolve_window

VIEWS = {"price": "Price", "return": "Cumulative return", "car": "Cumulative abnormal return"}
MODELS = {"market_adjusted": "Market-adjusted (R − R_benchmark)",
          "market": "Market model (α + β·R_benchmark, fitted before the start)"}


@dataclass(frozen=True)
class StockLine:
    """One ticker's line for the secondary axis: ``frame`` has columns date, value; ``unit`` is the axis unit
    (the trading currency for prices, ``%`` otherwise); ``note`` explains a CAR line's model."""

    ticker: str
    view: str
    frame: pd.DataFrame
    unit: str
    label: str
    note: str = ""


def cumulative_return(total: pd.Series) -> pd.Series:
    """Cumulative total return since the first session of ``total`` (0 there), as a fraction."""
    total = total.dropna()
    return total / total.iloc[0] - 1.0 if len(total) else total


def estimation_rows(index: pd.DatetimeIndex, first: int, estimation: OffsetWindow | LabelWindow) -> np.ndarray:
    """Which sessions of ``index`` the market model of a line starting at position ``first`` is fitted over.

    Offsets count sessions from the first session of the line (its day 0): ``[-250,-11]`` is the 250th to the
    11th session before it. Dates are those sessions of the calendar period. Either way only sessions before
    the first one count, so the fit never sees the returns it explains.
    """
    rows = np.zeros(len(index), dtype=bool)
    span = resolve_window(index, first, estimation)
    if span is not None:
        rows[span[0]:min(span[1] + 1, first)] = True
    return rows


def cumulative_abnormal_return(firm: pd.Series, benchmark: pd.Series, start: date, model: str, study: StudyConfig
                               ) -> tuple[pd.Series, str]:
    """CAR of ``firm`` against ``benchmark`` from ``start`` (0 on the first session on or after it).

    Both are total-return price series indexed by session date; the benchmark is aligned to the firm's
    sessions. Simple returns (``returns_from_prices``). ``market_adjusted``: AR = R − R_m. ``market``:
    AR = R − (α + β R_m) with α, β fitted by OLS (``fit_normal_model``) over the estimation window of ``study``
    (:func:`estimation_rows`); with fewer than ``study.min_obs`` sessions with both returns there the line
    falls back to market-adjusted and the note says so. Returns the CAR (fraction) and a note for the caption.
    """
    firm = firm.dropna().sort_index()
    bench = benchmark.sort_index().reindex(firm.index)
    r = returns_from_prices(firm)
    m = returns_from_prices(bench)
    after = firm.index >= pd.Timestamp(start)
    if not after.any():
        return pd.Series(dtype=float), "no session on or after the start"
    first = int(np.argmax(after))
    note = "market-adjusted: AR = R − R_benchmark"
    use = "market_adjusted"
    if model == "market":
        sample = estimation_rows(firm.index, first, study.estimation)
        sample &= ~np.isnan(r.to_numpy()) & ~np.isnan(m.to_numpy())
        window = f"estimation window {study.estimation} (setting `eventstudy.estimation`)"
        if sample.sum() >= study.min_obs:
            use = "market"
        else:
            note = (f"market model not fitted: only {int(sample.sum())} sessions with both returns in the {window} "
                    f"before the start (minimum {study.min_obs}, `eventstudy.min_obs`); shown market-adjusted "
                    "instead")
    r_arr, m_arr = r.to_numpy()[:, None], m.to_numpy()[:, None]
    if use == "market":
        fit = fit_normal_model(r_arr, m_arr, sample[:, None], "market")
        note = (f"market model fitted over {int(sample.sum())} sessions of the {window} before the start: "
                f"α = {fit.alpha[0]:.5f}, β = {fit.beta[0]:.3f}, R² = {fit.r2[0]:.2f}")
    else:
        fit = fit_normal_model(r_arr, m_arr, np.ones_like(r_arr, dtype=bool), "market_adjusted")
    ar = (r_arr - expected_returns(fit, m_arr, use))[:, 0]
    ar_after = pd.Series(ar, index=firm.index).iloc[first:]
    ar_after.iloc[0] = 0.0  # the line starts at 0 on the first session
    missing = ar_after.isna()
    car = ar_after.fillna(0.0).cumsum()
    car[missing] = np.nan  # a session without both returns has no CAR point (no bridging)
    return car, note


def _lookback(start: date, estimation: OffsetWindow | LabelWindow) -> date:
    """The first day to read for a CAR line from ``start``: early enough for the returns of its estimation
    window (the first session read has no return)."""
    if isinstance(estimation, LabelWindow):
        return min(start, pd.Timestamp(estimation.start).date()) - timedelta(days=10)
    return start - timedelta(days=int(max(-estimation.start, 0) * 1.6) + 10)  # ~252 sessions a year


def stock_line(reader: Reader, ticker: str, start: date, end: date, view: str = "price", benchmark: str = "SPY",
               model: str = "market_adjusted", *, study: StudyConfig) -> StockLine:
    """The line of ``ticker`` from ``start`` to ``end`` for ``view`` (a key of VIEWS); values in % for the
    return views. Empty frame when the ticker has no prices in the range."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}")
    empty = pd.DataFrame({"date": pd.Series(dtype="datetime64[us]"), "value": pd.Series(dtype=float)})
    if view == "price":
        rows = closes(reader, (ticker,), start, end)
        unit = str(rows["currency"].iloc[0]) if len(rows) else ""
        frame = rows[["date", "close"]].rename(columns={"close": "value"})
        return StockLine(ticker, view, frame, unit, f"{ticker} close", "raw close")
    if view == "return":
        rows = closes(reader, (ticker,), start, end)
        series = cumulative_return(rows.set_index("date")["total"]) * 100
        frame = series.rename("value").rename_axis("date").reset_index() if len(series) else empty
        return StockLine(ticker, view, frame, "%", f"{ticker} cumulative return",
                         "total return (adjusted close) since the first session of the range")
    rows = closes(reader, (ticker, benchmark), _lookback(start, study.estimation), end)
    firm = rows[rows["ticker"] == ticker].set_index("date")["total"]
    bench = rows[rows["ticker"] == benchmark].set_index("date")["total"]
    label = f"{ticker} CAR vs {benchmark}"
    if firm.empty or bench.empty:
        missing = ticker if firm.empty else benchmark
        return StockLine(ticker, view, empty, "%", label, f"no prices of {missing}")
    car, note = cumulative_abnormal_return(firm, bench, start, model, study)
    frame = (car * 100).rename("value").rename_axis("date").reset_index() if len(car) else empty
    return StockLine(ticker, view, frame, "%", label, note)
