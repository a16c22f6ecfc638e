"""Market model on real prices (BackTester39 fixture): MSFT and GOOGL against SPY around 2025-06-10."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.eventstudy.engine import run_event_study

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "fixtures"
    / "market"
    / "sungkyu-kim39-backtester39"
)
DAY0 = pd.Timestamp("2025-06-10")

pytestmark = pytest.mark.skipif(
    not FIXTURE.is_dir(),
    reason=f"price fixture not found at {FIXTURE} (the 'shared' folder beside the checkout)",
)


def _raw_close(ticker: str) -> pd.Series:
    frame = pd.read_csv(FIXTURE / f"{ticker}.csv", parse_dates=["Date"], index_col="Date")
    return frame["Close"]


def _total_return_close(ticker: str) -> pd.Series:
    """Yahoo-style back adjustment: on each ex-date, earlier closes are scaled by (1 - D / previous close)."""
    close = _raw_close(ticker)
    dividends = pd.read_csv(FIXTURE / f"{ticker}_dividends.csv", parse_dates=["Date"])
    factor = np.ones(len(close))
    for ex_date, amount in zip(dividends["Date"], dividends["Dividend"], strict=True):
        pos = close.index.get_loc(ex_date)
        factor[:pos] *= 1.0 - amount / close.iloc[pos - 1]
    return close * factor


def _simple_returns(close: pd.Series) -> pd.Series:
    values = close.to_numpy()
    return pd.Series(np.r_[np.nan, values[1:] / values[:-1] - 1.0], index=close.index)


@pytest.fixture(scope="module")
def returns() -> tuple[pd.DataFrame, pd.Series]:
    table = pd.DataFrame({t: _simple_returns(_total_return_close(t)) for t in ["MSFT", "GOOGL", "SPY"]})
    table = table.loc["2023-01-01":"2025-12-31"]
    assert not table.isna().any().any()  # the three files share the NYSE sessions
    return table[["MSFT", "GOOGL"]], table["SPY"]


def test_fixture_raw_closes_on_day0() -> None:
    assert round(float(_raw_close("MSFT").loc[DAY0]), 2) == 470.92
    assert round(float(_raw_close("GOOGL").loc[DAY0]), 2) == 178.60


def test_total_return_differs_from_raw_only_on_ex_dividend_days(
    returns: tuple[pd.DataFrame, pd.Series],
) -> None:
    firm_returns, _ = returns
    raw = _simple_returns(_raw_close("GOOGL")).loc[firm_returns.index]
    # GOOGL went ex-dividend (0.21) on 2025-06-09: total return = 176.09 / (173.68 - 0.21) - 1
    ex_date = pd.Timestamp("2025-06-09")
    close = _raw_close("GOOGL")
    expected = close.loc[ex_date] / (close.loc["2025-06-06"] - 0.21) - 1.0
    assert firm_returns.loc[ex_date, "GOOGL"] == pytest.approx(expected, rel=1e-12)
    assert firm_returns.loc[ex_date, "GOOGL"] - raw.loc[ex_date] == pytest.approx(0.0012, abs=0.0001)
    ex_dates = pd.read_csv(FIXTURE / "GOOGL_dividends.csv", parse_dates=["Date"])["Date"]
    ordinary = raw.index[~raw.index.isin(ex_dates)]
    assert len(ordinary) == len(raw) - ex_dates.between(raw.index[0], raw.index[-1]).sum()
    np.testing.assert_allclose(firm_returns.loc[ordinary, "GOOGL"], raw.loc[ordinary], rtol=1e-12)


def test_market_model_ar_and_car_match_an_independent_polyfit(
    returns: tuple[pd.DataFrame, pd.Series],
) -> None:
    firm_returns, spy = returns
    result = run_event_study(firm_returns, spy, DAY0)
    # market-data.md §3.1: day 0 = 2025-06-10 gives the estimation window 2024-06-10 .. 2025-05-23
    assert result.estimation_window == (pd.Timestamp("2024-06-10"), pd.Timestamp("2025-05-23"))
    sessions = firm_returns.index
    pos0 = sessions.get_loc(DAY0)
    est = slice(pos0 - 250, pos0 - 10)  # offsets -250 .. -11 inclusive
    firms = result.firms.set_index("firm")
    windows = result.firm_windows.set_index(["window", "firm"])
    for ticker in ["MSFT", "GOOGL"]:
        y, x = firm_returns[ticker].to_numpy(), spy.to_numpy()
        beta, alpha = np.polyfit(x[est], y[est], 1)
        residuals = y[est] - (alpha + beta * x[est])
        ar = y - (alpha + beta * x)
        assert firms.loc[ticker, "T"] == 240
        assert firms.loc[ticker, "beta"] == pytest.approx(beta, rel=1e-9)
        assert firms.loc[ticker, "alpha"] == pytest.approx(alpha, rel=1e-7, abs=1e-12)
        assert firms.loc[ticker, "s"] == pytest.approx(np.std(residuals, ddof=1), rel=1e-9)
        assert result.abnormal.loc[DAY0, ticker] == pytest.approx(ar[pos0], rel=1e-9)
        assert windows.loc[("[0,0]", ticker), "car"] == pytest.approx(ar[pos0], rel=1e-9)
        assert windows.loc[("[-1,+1]", ticker), "car"] == pytest.approx(
            ar[pos0 - 1 : pos0 + 2].sum(), rel=1e-9
        )
    # GOOGL outperformed on the OpenAI-Google Cloud news day, MSFT lagged
    assert result.abnormal.loc[DAY0, "GOOGL"] > 0.005 > -0.005 > result.abnormal.loc[DAY0, "MSFT"]
