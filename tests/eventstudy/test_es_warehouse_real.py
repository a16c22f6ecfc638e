"""The 2025-06-10 OpenAI-Google Cloud event on the REAL prices of ../shared/fixtures/market, end to end.

MSFT, GOOGL and SPY are imported with ``python -m etl prices import`` and the catalog event is studied with
``python -m etl eventstudy run`` (both real processes). The expected AR(0) and CAR[-1,+1] against SPY are
computed here from the raw CSV files with the csv module and numpy only: total-return adjusted closes from
Close and the dividends files (Yahoo's backward adjustment), simple returns, OLS on the 240 estimation
sessions [-250, -11].
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pytest

from etl.warehouse import connect_readonly
from tests.conftest import SHARED, run_process

MARKET = SHARED / "fixtures" / "market" / "sungkyu-kim39-backtester39"
EVENT = "openai-google-cloud-2025"
DAY0 = date(2025, 6, 10)

pytestmark = pytest.mark.skipif(not MARKET.is_dir(), reason=f"shared price fixtures not found at {MARKET} "
                                                            "(the 'shared' folder beside the checkout)")


def _rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def total_return_closes(ticker: str) -> dict[date, float]:
    """Close x product over later ex-dates D of (1 - dividend / close of the last session before D)."""
    closes = {date.fromisoformat(r["Date"]): float(r["Close"]) for r in _rows(MARKET / f"{ticker}.csv")}
    days = sorted(closes)
    factor = np.ones(len(days))
    for row in _rows(MARKET / f"{ticker}_dividends.csv"):
        ex_date = date.fromisoformat(row["Date"])
        before = [i for i, d in enumerate(days) if d < ex_date]
        if before and ex_date <= days[-1]:
            factor[: before[-1] + 1] *= 1.0 - float(row["Dividend"]) / closes[days[before[-1]]]
    return {d: closes[d] * f for d, f in zip(days, factor, strict=True)}


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[float, float]]:
    """(AR(0), CAR[-1,+1]) per firm against SPY, market model, estimation [-250, -11]."""
    prices = {t: total_return_closes(t) for t in ("MSFT", "GOOGL", "SPY")}
    days = sorted(set(prices["MSFT"]) & set(prices["GOOGL"]) & set(prices["SPY"]))
    pos0 = days.index(DAY0)

    def returns(ticker: str) -> np.ndarray:
        series = np.array([prices[ticker][d] for d in days])
        return np.r_[np.nan, series[1:] / series[:-1] - 1.0]

    market = returns("SPY")
    est = slice(pos0 - 250, pos0 - 10)
    out = {}
    for ticker in ("MSFT", "GOOGL"):
        firm = returns(ticker)
        x, y = market[est], firm[est]
        design = np.column_stack([np.ones_like(x), x])
        (alpha, beta), *_ = np.linalg.lstsq(design, y, rcond=None)
        ar = firm - (alpha + beta * market)
        out[ticker] = (ar[pos0], ar[pos0 - 1: pos0 + 2].sum())
    return out


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> dict[str, object]:
    db = tmp_path_factory.mktemp("real") / "w.duckdb"
    files = [str(MARKET / f"{t}.csv") for t in ("MSFT", "GOOGL", "SPY")]
    imported = run_process(["--db", str(db), "prices", "import", *files])
    assert imported.returncode == 0, imported.stdout + imported.stderr
    studied = run_process(["--db", str(db), "eventstudy", "run", "--event", EVENT])
    assert studied.returncode == 0, studied.stdout + studied.stderr
    con = connect_readonly(db)
    try:
        return {
            "ar0": dict(con.execute("SELECT ticker, ar FROM event_study_daily WHERE event_id = ? AND relative_day = 0 "
                                    "AND benchmark = 'SPY' AND model = 'market'", [EVENT]).fetchall()),
            "car": dict(con.execute("SELECT ticker || ' ' || r.window, car FROM event_study_results r "
                                    "WHERE event_id = ? AND benchmark = 'SPY'", [EVENT]).fetchall()),
            "facts": con.execute("SELECT DISTINCT day0, estimation_start, estimation_end, T FROM event_study_results "
                                 "WHERE event_id = ?", [EVENT]).fetchall(),
            "stdout": studied.stdout,
        }
    finally:
        con.close()


@pytest.mark.parametrize("ticker", ["MSFT", "GOOGL"])
def test_ar0_and_car_match_an_independent_computation_from_the_raw_files(stored, expected, ticker):
    ar0, car = expected[ticker]
    assert stored["ar0"][ticker] == pytest.approx(ar0, abs=1e-10)
    assert stored["car"][f"{ticker} [0,0]"] == pytest.approx(ar0, abs=1e-10)
    assert stored["car"][f"{ticker} [-1,+1]"] == pytest.approx(car, abs=1e-10)


def test_day0_and_estimation_window(stored, expected):
    # 10:21 UTC is before the New York open: day 0 is that session; estimation [-250,-11] in sessions
    assert stored["facts"] == [(DAY0, date(2024, 6, 10), date(2025, 5, 23), 240)]
    assert expected["GOOGL"][0] > 0 > expected["MSFT"][0]  # Google Cloud won the news, Microsoft lagged
    assert any(line.split()[:5] == [EVENT, "GOOGL", "SPY", "2025-06-10", "computed"]
               for line in stored["stdout"].splitlines())
