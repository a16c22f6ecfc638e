"""``prices import``: Yahoo's CSV layout, the raw-close layout with a dividends file, and bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.market.csv_import import adjusted_close
from tests.billing.test_loader import write

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def test_the_dividend_adjustment_on_a_hand_worked_example():
    dates = pd.Series(pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07"]))
    close = pd.Series([10.0, 11.0, 12.0, 13.0])
    dividends = pd.Series([1.0, 0.5], index=pd.to_datetime(["2025-01-06", "2025-01-07"]))
    adj, on_row, notes = adjusted_close(dates, close, dividends)
    # ex 01-06: rows before it x (1 - 1/11); ex 01-07: rows before it x (1 - 0.5/12)
    m1, m2 = 1 - 1 / 11, 1 - 0.5 / 12
    assert adj == pytest.approx([10 * m1 * m2, 11 * m1 * m2, 12 * m2, 13])
    assert list(on_row) == [0, 0, 1.0, 0.5]
    assert notes == []


def test_dividends_off_the_price_rows_are_placed_or_reported():
    dates = pd.Series(pd.to_datetime(["2025-01-02", "2025-01-06"]))
    dividends = pd.Series([1.0, 2.0, 3.0], index=pd.to_datetime(["2024-12-01", "2025-01-04", "2025-02-01"]))
    adj, on_row, notes = adjusted_close(dates, pd.Series([10.0, 12.0]), dividends)
    assert list(adj) == pytest.approx([10 * (1 - 2 / 10), 12])
    assert list(on_row) == [0, 2.0]
    assert notes == ["dividend ex-date 2025-01-04 is not a price row; applied from 2025-01-06",
                     "dividend 3 on 2025-02-01 is after the last price row; not applied"]


def test_a_yahoo_layout_file_with_null_rows(cli, query, tmp_path):
    path = write(tmp_path / "orcl.csv", YAHOO_HEADER,
                 "2025-06-09,177.0,178.0,176.0,177.15,176.70,100",
                 "2025-06-10,null,null,null,null,null,null",
                 "2025-06-11,177.5,178.5,176.5,177.48,177.03,200")
    result = cli("prices", "import", str(path))
    assert result.code == 0, result.out
    assert query("SELECT ticker, date, close, adj_close, volume, dividends, currency, exchange FROM prices "
                 "ORDER BY date") == [
        ("ORCL", date(2025, 6, 9), 177.15, 176.70, 100, None, "USD", "XNYS"),
        ("ORCL", date(2025, 6, 11), 177.48, 177.03, 200, None, "USD", "XNYS")]
    [(status, fmt, files, message)] = query("SELECT status, format, files, message FROM load_log")
    assert (status, fmt, files) == ("loaded", "csv-yahoo", [str(path)])
    assert "1 row(s) without a close skipped" in message
    assert "missing sessions (1) on XNYS: 2025-06-10" in message


def test_ticker_option_and_file_name(cli, query, tmp_path):
    path = write(tmp_path / "softbank.csv", YAHOO_HEADER, "2025-06-10,9000,9100,8900,9050,9050,1000")
    assert cli("prices", "import", "--ticker", "9984.t", str(path)).code == 0
    assert query("SELECT ticker, currency, exchange FROM prices") == [("9984.T", "JPY", "XTKS")]
    two = write(tmp_path / "other.csv", YAHOO_HEADER, "2025-06-10,1,1,1,1,1,1")
    result = cli("prices", "import", "--ticker", "X", str(path), str(two))
    assert result.code == 2 and "--ticker names the ticker of one price file" in result.err


def test_raw_close_layout_without_a_dividends_file_leaves_adj_close_empty(cli, query, tmp_path):
    path = write(tmp_path / "CRWV.csv", "Date,Open,High,Low,Close,Volume", "2025-06-10,160,165,150,154.90,100")
    result = cli("prices", "import", str(path))
    assert result.code == 0
    assert query("SELECT close, adj_close, dividends, stock_splits FROM prices") == [(154.90, None, None, None)]
    assert "no CRWV_dividends.csv beside it: adj_close and dividends left empty" in query(
        "SELECT message FROM load_log")[0][0]


@pytest.mark.parametrize(("lines", "error"), [
    (["Date,Open,High,Low,Close,Volume", "2025-06-10,1,1,1,abc,5"],
     'line 2, column "Close": "abc" is not a number'),
    (["Date,Open,High,Low,Close,Volume", "10/06/2025,1,1,1,2,5"],
     'line 2, column "Date": "10/06/2025" is not a date (expected YYYY-MM-DD)'),
    (["Date,Open,High,Low,Close,Volume", "2025-06-10,1,1,1,2,5", "2025-06-10,1,1,1,2,5"],
     "date 2025-06-10 appears more than once (lines 2, 3)"),
    (["Date,Open,High,Low,Volume", "2025-06-10,1,1,1,5"], "no Close column"),
    (["Date,Open,High,Low,Close,Volume"], "no price rows with a close after the header"),
    (["Date,Open,High,Low,Close,Volume,Dividends,Stock Splits", "2025-06-10,1,1,1,2,5,0,0"],
     "Close without Adj Close next to Dividends/Stock Splits looks like a yfinance history() export with "
     "auto_adjust=True"),
])
def test_bad_files_fail_alone_with_a_clear_error(cli, query, tmp_path, lines, error):
    bad = write(tmp_path / "BAD.csv", *lines)
    good = write(tmp_path / "GOOD.csv", YAHOO_HEADER, "2025-06-10,1,1,1,2,2,5")
    result = cli("prices", "import", str(bad), str(good))
    assert result.code == 1
    assert f"error: {bad}: {error}" in result.out
    assert query("SELECT DISTINCT ticker FROM prices") == [("GOOD",)]
    assert query("SELECT source, status FROM load_log ORDER BY source") == [(str(bad), "failed"),
                                                                            (str(good), "loaded")]


def test_a_dividends_file_alone_is_refused(cli, tmp_path):
    path = write(tmp_path / "MSFT_dividends.csv", "Date,Dividend", "2025-05-15,0.83")
    result = cli("prices", "import", str(path))
    assert result.code == 1
    assert "a dividends file is read beside its price file; import MSFT.csv instead" in result.out


def test_the_adjusted_series_has_no_seam_at_an_ex_date(cli, query, tmp_path):
    """Adjusted returns equal raw returns except over the ex-date, where Yahoo's backward adjustment gives
    P1 / (P0 - D) - 1: the return of the price after the dividend is taken out of the previous close."""
    days = pd.bdate_range("2025-01-02", periods=6)
    closes = [100.0, 101.0, 102.0, 101.0, 103.0, 104.0]
    write(tmp_path / "T.csv", "Date,Open,High,Low,Close,Volume",
          *[f"{d:%Y-%m-%d},{c},{c},{c},{c},1" for d, c in zip(days, closes, strict=True)])
    write(tmp_path / "T_dividends.csv", "Date,Dividend", f"{days[3]:%Y-%m-%d},2.04")
    assert cli("prices", "import", str(tmp_path / "T.csv")).code == 0
    rows = query("SELECT close, adj_close FROM prices ORDER BY date")
    raw = np.diff([r[0] for r in rows]) / np.array([r[0] for r in rows][:-1])
    adj = np.diff([r[1] for r in rows]) / np.array([r[1] for r in rows][:-1])
    assert adj[[0, 1, 3, 4]] == pytest.approx(raw[[0, 1, 3, 4]], rel=1e-12)
    assert adj[2] == pytest.approx(101.0 / (102.0 - 2.04) - 1, rel=1e-12)
    assert adj[2] == pytest.approx((101.0 + 2.04) / 102.0 - 1, abs=3e-4)  # close to the reinvested return


def test_directories_are_searched_for_price_files(cli, query, tmp_path):
    folder = tmp_path / "prices"
    write(folder / "A.csv", "Date,Open,High,Low,Close,Volume", "2025-06-10,1,1,1,2,5")
    write(folder / "A_dividends.csv", "Date,Dividend")
    write(folder / "notes.txt", "not a price file")
    result = cli("prices", "import", str(folder))
    assert result.code == 0
    assert query("SELECT ticker, adj_close, dividends FROM prices") == [("A", 2.0, 0.0)]
    assert query("SELECT files FROM load_log") == [([str(folder / "A.csv"), str(folder / "A_dividends.csv")],)]
    assert cli("prices", "import", str(Path(tmp_path / "empty-dir").resolve())).code == 1
