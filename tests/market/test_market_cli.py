"""``prices`` and ``fx`` commands run as cron runs them: real processes, the shared price files, no network."""

from __future__ import annotations

import csv
import hashlib
from datetime import date

import pytest

from etl.market import yahoo
from tests.conftest import run_process
from tests.helpers import table_rows
from tests.market.fakes import MARKET, FakeYahoo, need_market_fixtures

COMMANDS = [["prices"], ["prices", "fetch"], ["prices", "import"], ["fx"], ["fx", "fetch"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_market_command_has_help(command, cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(*command, "--help")
    assert exit_info.value.code == 0
    assert "usage: python -m etl" in capsys.readouterr().out


def fixture_rows(ticker: str) -> list[dict[str, str]]:
    with open(MARKET / f"{ticker}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The shared fixture folder imported once by a real process."""
    need_market_fixtures()
    db = tmp_path_factory.mktemp("imported") / "w.duckdb"
    result = run_process(["--db", str(db), "prices", "import", str(MARKET)])
    return db, result


def test_the_shared_price_files_import(imported):
    _db, result = imported
    assert result.returncode == 0, result.stdout + result.stderr
    imported_rows = {row["source"].split()[0]: row for row in table_rows(result.stdout)}
    expected = {t: len(fixture_rows(t)) for t in ("AMZN", "CRWV", "GOOG", "GOOGL", "MSFT", "NVDA", "ORCL", "QQQ",
                                                   "SPY")}
    assert expected["MSFT"] == 6642 and expected["GOOGL"] == 5479 and expected["CRWV"] == 294
    for ticker, rows in expected.items():
        row = imported_rows[ticker]
        assert (row["rows"], row["covers"], row["status"]) == (
            str(rows), f"{fixture_rows(ticker)[0]['Date']} to 2026-05-29", "loaded")
        assert "missing sessions" not in row["detail"] and "extra sessions" not in row["detail"]


def test_the_imported_values_match_the_files(imported, tmp_path):
    db, _ = imported
    from etl.warehouse import connect_readonly

    con = connect_readonly(db)
    try:
        close = dict(con.execute("SELECT ticker, close FROM prices WHERE date = '2025-06-10'").fetchall())
        googl = {d: (c, a, dv) for d, c, a, dv in con.execute(
            "SELECT date, close, adj_close, dividends FROM prices WHERE ticker = 'GOOGL' ORDER BY date").fetchall()}
        counts = dict(con.execute("SELECT ticker, count(*) FROM prices GROUP BY 1").fetchall())
    finally:
        con.close()
    assert round(close["MSFT"], 2) == 470.92 and round(close["GOOGL"], 2) == 178.60
    assert counts["MSFT"] == 6642
    # Independently: GOOGL's dividends after a day scale its adjusted close by (1 - D / previous close).
    rows = fixture_rows("GOOGL")
    raw = {date.fromisoformat(r["Date"]): float(r["Close"]) for r in rows}
    days = sorted(raw)
    with open(MARKET / "GOOGL_dividends.csv", encoding="utf-8", newline="") as handle:
        dividends = [(date.fromisoformat(r["Date"]), float(r["Dividend"])) for r in csv.DictReader(handle)]
    assert (date(2025, 6, 9), 0.21) in dividends

    def expected_factor(day: date) -> float:
        factor = 1.0
        for ex, amount in dividends:
            if day < ex <= days[-1]:
                factor *= 1 - amount / raw[max(d for d in days if d < ex)]
        return factor

    for day in (date(2025, 6, 6), date(2025, 6, 9), date(2025, 6, 10), date(2024, 1, 2), days[-1]):
        c, a, _ = googl[day]
        assert c == raw[day]
        assert a / c == pytest.approx(expected_factor(day), rel=1e-12)
    before, on = googl[date(2025, 6, 6)], googl[date(2025, 6, 9)]
    assert (before[1] / before[0]) / (on[1] / on[0]) == pytest.approx(1 - 0.21 / raw[date(2025, 6, 6)], rel=1e-12)
    assert on[2] == 0.21 and before[2] == 0.0


def test_importing_the_same_files_again_changes_nothing(imported, tmp_path):
    db, _ = imported
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    result = run_process(["--db", str(copy), "prices", "import", str(MARKET / "MSFT.csv")])
    assert result.returncode == 0
    assert "unchanged" in result.stdout and "6642 unchanged row(s)" in result.stdout


@pytest.mark.parametrize("command", [["prices", "fetch", "MSFT", "9984.T"], ["fx", "fetch", "CAD", "NOK"]],
                         ids=" ".join)
def test_without_network_fetches_say_so_and_change_nothing(command, tmp_path):
    """The suite's blackhole proxy (HTTPS_PROXY=127.0.0.1:9) stands in for a machine without network."""
    db = tmp_path / "w.duckdb"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert run_process(["--db", str(db), "init"], env=env).returncode == 0
    before = sha256(db)
    result = run_process(["--db", str(db), *command], env=env, timeout=120)
    assert result.returncode == 1
    assert result.stdout.startswith("error: could not reach Yahoo Finance: Failed to connect to "
                                    "query2.finance.yahoo.com:443 over proxy 127.0.0.1")
    assert "(all 2 " in result.stdout
    assert "Nothing was changed: the warehouse keeps what it had." in result.stdout
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("w.duckdb")) == ["w.duckdb",
                                                                                         "w.duckdb.lock"]
    assert "Pandas4Warning" not in result.stderr and "Traceback" not in result.stderr


def test_without_network_no_warehouse_is_created(tmp_path):
    db = tmp_path / "w.duckdb"
    result = run_process(["--db", str(db), "prices", "fetch"], env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
                         timeout=120)
    assert result.returncode == 1 and "could not reach Yahoo Finance" in result.stdout
    assert "(all 11 tickers failed)" in result.stdout
    assert not db.exists()


def test_one_failed_ticker_fails_the_run_and_status(monkeypatch, cli):
    need_market_fixtures()
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo())  # 9984.T is not in the fixtures: an all-NaN block
    result = cli("prices", "fetch", "MSFT", "9984.T")
    assert result.code == 1
    assert "error: 9984.T: possibly delisted; no price data found" in result.out
    assert any(line.startswith("MSFT ") and " loaded " in line for line in result.out.splitlines())
    status = cli("status")
    assert status.code == 1
    assert "9984.T: possibly delisted; no price data found" in status.out


def test_a_bad_market_setting_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_MARKET__START", "last year")
    result = cli("prices", "fetch")
    assert result.code == 2
    assert "setting market.start: 'last year' is not a date (expected YYYY-MM-DD)" in result.err
