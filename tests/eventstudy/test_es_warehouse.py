"""Warehouse mode (``eventstudy run``): stored results equal the engine's on the same returns and hand-computed
values; exclusions, failures, day 0 on weekends and after the close, Tokyo benchmarks, overlaps, options.

The prices are synthetic but on real exchange sessions (New York and Tokyo, 2024-2025), written as Yahoo CSVs
and loaded with ``prices import``; the events are added with ``events add``.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.cli import main as cli_main
from etl.events.store import read_events
from etl.eventstudy.engine import CAR_STATISTICS, DAILY_STATISTICS, EventStudyConfig, run_event_study
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.warehouse import RESULT_COLUMNS, compute_event_studies
from etl.eventstudy.windows import OffsetWindow
from etl.market.calendars import sessions
from etl.warehouse import connect_readonly

NY_DAY0 = pd.Timestamp("2025-06-10")
LATE_LISTING = 40  # CCC's prices start 40 sessions before NY_DAY0: too short an estimation sample


def _sessions(mic: str) -> pd.DatetimeIndex:
    return sessions(mic, date(2024, 1, 1), date(2025, 12, 30))


def _closes(sessions: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """A market and firms with betas 0.8, 1.3, 1.0, plus a jump on NY_DAY0 for AAA."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0004, 0.01, len(sessions))
    firms = {"AAA": 0.0003 + 0.8 * market + rng.normal(0, 0.015, len(sessions)),
             "BBB": -0.0001 + 1.3 * market + rng.normal(0, 0.02, len(sessions)),
             "CCC": 1.0 * market + rng.normal(0, 0.02, len(sessions))}
    if NY_DAY0 in sessions:
        firms["AAA"][sessions.get_loc(NY_DAY0)] += 0.04
    returns = pd.DataFrame({"MKT": market, **firms}, index=sessions)
    return 100.0 * (1.0 + returns).cumprod()


def _write_yahoo(folder: Path, ticker: str, closes: pd.Series) -> None:
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    lines += [f"{d:%Y-%m-%d},{c!r},{c!r},{c!r},{c!r},{c!r},1000" for d, c in closes.items()]
    (folder / f"{ticker}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Adjusted closes as written: New York (SPY, AAA, BBB, CCC) and Tokyo (^N225, 9984.T)."""
    ny = _closes(_sessions("XNYS"), seed=11).rename(columns={"MKT": "SPY"})
    ny.loc[ny.index < ny.index[ny.index.get_loc(NY_DAY0) - LATE_LISTING], "CCC"] = np.nan
    tokyo = _closes(_sessions("XTKS"), seed=12).rename(columns={"MKT": "^N225", "AAA": "9984.T"})[["^N225", "9984.T"]]
    return {"ny": ny, "tokyo": tokyo}


@pytest.fixture(scope="module")
def base_db(tmp_path_factory, market) -> Path:
    """A warehouse with the synthetic prices and five user events."""
    folder = tmp_path_factory.mktemp("prices")
    for frame in market.values():
        for ticker in frame.columns:
            _write_yahoo(folder, ticker, frame[ticker].dropna())
    db = tmp_path_factory.mktemp("warehouse") / "w.duckdb"
    assert cli_main(["--db", str(db), "prices", "import", str(folder)]) == 0
    for args in (
        ["--id", "ny-event", "--date", "2025-06-10", "--market-time", "pre", "--tickers", "AAA", "BBB", "CCC"],
        ["--id", "weekend", "--date", "2025-06-14", "--market-time", "unknown", "--tickers", "AAA"],
        ["--id", "after-close", "--date", "2025-01-21", "--time", "16:30", "--tickers", "AAA"],
        ["--id", "tokyo", "--date", "2025-01-21", "--market-time", "post", "--tickers", "9984.T"],
        ["--id", "no-prices", "--date", "2025-06-10", "--market-time", "pre", "--tickers", "AAA", "MSFT"],
    ):
        assert cli_main(["--db", str(db), "events", "add", "--headline", f"Event {args[1]}", *args]) == 0
    return db


@pytest.fixture
def study_db(base_db, db_path) -> Path:
    """A private copy of the prepared warehouse for one test (the ``cli`` and ``query`` fixtures use it)."""
    shutil.copyfile(base_db, db_path)
    return db_path


def _returns(frame: pd.DataFrame, kind: str = "simple") -> pd.DataFrame:
    ratio = frame / frame.shift(1)
    return np.log(ratio) if kind == "log" else ratio - 1.0


def test_stored_results_equal_the_engine_on_the_same_returns(study_db, cli, query, market):
    result = cli("eventstudy", "run", "--event", "ny-event")
    assert result.code == 0, result.out
    returns = _returns(market["ny"])
    engine = run_event_study(returns[["AAA", "BBB", "CCC"]], returns["SPY"], NY_DAY0, EventStudyConfig())
    stored = query(f"SELECT {', '.join(c if c != 'window' else 'r.window' for c in RESULT_COLUMNS)} "
                   "FROM event_study_results r WHERE event_id = 'ny-event' ORDER BY ticker, start_day, end_day")
    stored = pd.DataFrame(stored, columns=RESULT_COLUMNS).set_index(["window", "ticker"])
    expected = engine.firm_windows.set_index(["window", "firm"])
    assert sorted(stored.index) == sorted(expected.index)
    for column in ["days", "car", "bhar", "scar", "car_t", "car_t_p"]:
        np.testing.assert_allclose(stored.loc[expected.index, column].astype(float), expected[column].astype(float),
                                   rtol=1e-12, atol=1e-15, err_msg=column)
    firms = engine.firms.set_index("firm")
    for column in ["T", "alpha", "beta", "s", "r2"]:
        np.testing.assert_allclose(stored.xs("[0,0]")[column].astype(float), firms.loc[["AAA", "BBB"], column],
                                   rtol=1e-12, err_msg=column)
    numbers = ["caar", "bhar_mean", "r_bar", *CAR_STATISTICS, *(f"{name}_p" for name in CAR_STATISTICS)]
    marks = [f"{name}_stars" for name in CAR_STATISTICS]
    cross = pd.DataFrame(query(f'SELECT "window", n, {", ".join(numbers + marks)} FROM event_study_cross '
                               "WHERE event_id = 'ny-event'"), columns=["window", "n", *numbers, *marks])
    cross = cross.set_index("window")
    windows = engine.windows.set_index("window").loc[cross.index]
    np.testing.assert_allclose(cross[["n", *numbers]].to_numpy(dtype=float),
                               windows[["n", *numbers]].to_numpy(dtype=float), rtol=1e-12)
    assert cross[marks].to_numpy().tolist() == windows[marks].to_numpy().tolist()
    assert np.isfinite(cross[["car_grank", "car_patell_kp", "bhar_skew_t"]].to_numpy(dtype=float)).all()
    numbers = ["relative_day", "n", "aar", "r_bar", *DAILY_STATISTICS, *(f"{name}_p" for name in DAILY_STATISTICS)]
    marks = [f"{name}_stars" for name in DAILY_STATISTICS]
    daily = pd.DataFrame(query(f"SELECT {', '.join(numbers + marks)} FROM event_study_cross_daily "
                               "WHERE event_id = 'ny-event' ORDER BY relative_day"), columns=numbers + marks)
    np.testing.assert_allclose(daily[numbers].to_numpy(dtype=float), engine.daily[numbers].to_numpy(dtype=float),
                               rtol=1e-12)
    assert daily[marks].to_numpy().tolist() == engine.daily[marks].to_numpy().tolist()
    assert "***" in daily.set_index("relative_day").loc[0, marks].tolist()  # AAA's jump on day 0
    path = query("SELECT relative_day, date, ret, market_ret, ar, car FROM event_study_daily "
                 "WHERE event_id = 'ny-event' AND ticker = 'AAA' ORDER BY relative_day")
    assert [r[0] for r in path] == list(range(-10, 11))
    pos0 = returns.index.get_loc(NY_DAY0)
    assert [r[1] for r in path] == [d.date() for d in returns.index[pos0 - 10: pos0 + 11]]
    np.testing.assert_allclose([r[2] for r in path], returns["AAA"].iloc[pos0 - 10: pos0 + 11], rtol=1e-12)
    np.testing.assert_allclose([r[3] for r in path], returns["SPY"].iloc[pos0 - 10: pos0 + 11], rtol=1e-12)


def test_market_model_by_hand_and_bhar(study_db, cli, query, market):
    """AR(0), CAR[-1,+1] and BHAR[0,+1] of AAA from numpy's least squares on the 240 estimation sessions."""
    assert cli("eventstudy", "run", "--event", "ny-event").code == 0
    closes = market["ny"]
    r = (closes["AAA"].to_numpy()[1:] / closes["AAA"].to_numpy()[:-1]) - 1.0
    m = (closes["SPY"].to_numpy()[1:] / closes["SPY"].to_numpy()[:-1]) - 1.0
    pos0 = closes.index.get_loc(NY_DAY0) - 1  # position in the return arrays
    est = slice(pos0 - 250, pos0 - 10)
    beta, alpha = np.polyfit(m[est], r[est], 1)
    ar = r - (alpha + beta * m)
    [(ar0,)] = query("SELECT ar FROM event_study_daily WHERE event_id = 'ny-event' AND ticker = 'AAA' "
                     "AND relative_day = 0")
    assert ar0 == pytest.approx(ar[pos0], abs=1e-10) and ar0 > 0.03  # the planted +4 % jump
    stored = dict(query("SELECT r.window, car FROM event_study_results r WHERE event_id = 'ny-event' "
                        "AND ticker = 'AAA'"))
    assert stored["[-1,+1]"] == pytest.approx(ar[pos0 - 1: pos0 + 2].sum(), abs=1e-10)
    expected_return = alpha + beta * m
    bhar = np.prod(1 + r[pos0: pos0 + 2]) - np.prod(1 + expected_return[pos0: pos0 + 2])
    assert query("SELECT bhar FROM event_study_results r WHERE event_id = 'ny-event' AND ticker = 'AAA' "
                 "AND r.window = '[0,+1]'")[0][0] == pytest.approx(bhar, abs=1e-10)


def test_a_ticker_listed_mid_window_is_excluded_with_the_reason(study_db, cli, query):
    result = cli("eventstudy", "run", "--event", "ny-event")
    assert result.code == 0
    [(reason,)] = query("SELECT reason FROM event_study_exclusions WHERE event_id = 'ny-event' AND ticker = 'CCC'")
    assert reason.startswith(f"only {LATE_LISTING - 11} sessions with both firm and market returns in the "
                             "estimation window") and reason.endswith("(minimum 60)")
    assert any(line.split()[:2] == ["ny-event", "CCC"] and "excluded" in line for line in result.out.splitlines())
    assert query("SELECT count(*) FROM event_study_results WHERE ticker = 'CCC'") == [(0,)]
    assert query("SELECT tickers FROM event_study_cross WHERE event_id = 'ny-event' LIMIT 1") == [(["AAA", "BBB"],)]
    assert query("SELECT pairs, computed, excluded, failed, status FROM event_study_runs") == [(3, 2, 1, 0, "ok")]


def test_weekend_and_after_close_day0_in_stored_results(study_db, cli, query):
    assert cli("eventstudy", "run", "--event", "weekend", "--event", "after-close").code == 0
    assert query("SELECT event_id, day0 FROM event_day0 WHERE ticker = 'AAA' AND event_id IN ('weekend', "
                 "'after-close') ORDER BY event_id") == [("after-close", date(2025, 1, 22)),
                                                         ("weekend", date(2025, 6, 16))]
    assert query("SELECT event_id, date FROM event_study_daily WHERE relative_day = 0 ORDER BY event_id") == \
        [("after-close", date(2025, 1, 22)), ("weekend", date(2025, 6, 16))]


def test_the_cron_run_recomputes_everything_flags_overlaps_and_fails_missing_prices(study_db, cli, query):
    first = cli("eventstudy", "run")
    assert first.code == 1
    assert "error: no-prices / MSFT: no adjusted closes for MSFT in the warehouse (table prices)" in first.out
    [(events, pairs)] = query("SELECT count(*), sum(len(tickers)) FROM events")  # the catalog's and ours
    assert f"eventstudy run 1: {events} events, {pairs} event/ticker pairs" in first.out
    mine = [line.split()[:5] for line in first.out.splitlines()
            if line.split()[:1] in (["ny-event"], ["weekend"], ["after-close"], ["tokyo"], ["no-prices"])]
    assert sorted(mine) == sorted([
        ["ny-event", "AAA", "SPY", "2025-06-10", "computed"], ["ny-event", "BBB", "SPY", "2025-06-10", "computed"],
        ["ny-event", "CCC", "SPY", "2025-06-10", "excluded"], ["weekend", "AAA", "SPY", "2025-06-16", "computed"],
        ["after-close", "AAA", "SPY", "2025-01-22", "computed"], ["tokyo", "9984.T", "^N225", "2025-01-22", "computed"],
        ["no-prices", "AAA", "SPY", "2025-06-10", "computed"], ["no-prices", "MSFT", "SPY", "2025-06-10", "failed"]])
    assert query("SELECT count(*) FROM event_study_results WHERE event_id = 'no-prices' AND ticker = 'AAA'") == [(4,)]
    overlaps = query("SELECT event_id, other_event_id, kind FROM event_study_overlaps WHERE ticker = 'AAA' "
                     "AND kind = 'event_period' ORDER BY 1, 2")
    assert ("no-prices", "weekend", "event_period") in overlaps and ("ny-event", "weekend", "event_period") in overlaps
    counts = query("SELECT (SELECT count(*) FROM event_study_daily), (SELECT count(*) FROM event_study_cross)")
    assert cli("eventstudy", "run").code == 1  # the cron job again: same rows, replaced
    assert query("SELECT (SELECT count(*) FROM event_study_daily), (SELECT count(*) FROM event_study_cross)") == counts
    assert query("SELECT DISTINCT run_id FROM event_study_daily") == [(2,)]
    assert query("SELECT run_id, status FROM event_study_runs ORDER BY run_id") == [(1, "failed"), (2, "failed")]
    assert "no-prices / MSFT" in query("SELECT message FROM event_study_runs WHERE run_id = 2")[0][0]


def test_an_event_outside_the_price_history_is_skipped_with_its_reason_and_fails_nothing(study_db, cli, query):
    """An event before the first price (the catalog reaches back to 2019) or after the last one cannot be measured:
    the pair is skipped with the reason, the run succeeds and the stored run says so; earlier results stay."""
    for args in (["--id", "too-early", "--date", "2023-06-01", "--market-time", "pre", "--tickers", "AAA", "BBB"],
                 ["--id", "too-late", "--date", "2026-02-02", "--market-time", "pre", "--tickers", "AAA"]):
        assert cli("events", "add", "--headline", f"Event {args[1]}", *args).code == 0
    assert cli("eventstudy", "run", "--event", "ny-event").code == 0
    stored = query("SELECT count(*) FROM event_study_results")
    result = cli("eventstudy", "run", "--event", "too-early", "--event", "too-late", "--event", "ny-event")
    assert result.code == 0, result.out
    lines = [line.split()[:5] for line in result.out.splitlines() if line.split()[:1] in (["too-early"], ["too-late"])]
    assert sorted(lines) == [["too-early", "AAA", "SPY", "2023-06-01", "skipped"],
                             ["too-early", "BBB", "SPY", "2023-06-01", "skipped"],
                             ["too-late", "AAA", "SPY", "2026-02-02", "skipped"]]
    assert "3 skipped, 0 failed" in result.out and "error:" not in result.out
    [(pairs, computed, excluded, failed, skipped, status, message)] = query(
        "SELECT pairs, computed, excluded, failed, skipped, status, message FROM event_study_runs WHERE run_id = 2")
    assert (pairs, computed, excluded, failed, skipped, status) == (6, 2, 1, 0, 3, "ok")
    assert message.splitlines()[0] == (
        "skipped too-early / AAA: not enough price history: day 0 2023-06-01 is outside it (SPY and AAA, BBB have "
        "prices from 2024-01-02 to 2025-12-30)")
    assert query("SELECT count(*) FROM event_study_results") == stored  # ny-event recomputed, nothing else
    assert query("SELECT count(*) FROM event_study_results WHERE event_id IN ('too-early', 'too-late')") == [(0,)]


def test_tokyo_tickers_use_the_tokyo_benchmark_and_sessions(study_db, cli, query, market):
    assert cli("eventstudy", "run", "--event", "tokyo").code == 0
    assert query("SELECT DISTINCT benchmark, day0 FROM event_study_results WHERE event_id = 'tokyo'") == \
        [("^N225", date(2025, 1, 22))]
    returns = _returns(market["tokyo"])
    engine = run_event_study(returns[["9984.T"]], returns["^N225"], pd.Timestamp("2025-01-22"))
    stored = query("SELECT ar FROM event_study_daily WHERE event_id = 'tokyo' ORDER BY relative_day")
    np.testing.assert_allclose([r[0] for r in stored], engine.firm_daily["ar"], rtol=1e-12)
    wrong = cli("eventstudy", "run", "--event", "tokyo", "--benchmark", "SPY")
    assert wrong.code == 1
    assert "9984.T trades on XTKS sessions but its benchmark SPY on XNYS" in wrong.out


def test_options_log_returns_other_model_windows_and_estimation_dates(study_db, cli, query, market):
    result = cli("eventstudy", "run", "--event", "ny-event", "--tickers", "AAA,BBB", "--model", "market_adjusted",
                 "--returns", "log", "--windows", "-2:2,0:0", "--estimation", "-200:-11", "--min-obs", "30")
    assert result.code == 0, result.out
    returns = _returns(market["ny"], "log")
    config = EventStudyConfig(model="market_adjusted", returns_kind="log", estimation=OffsetWindow(-200, -11),
                              event_windows=(OffsetWindow(-2, 2), OffsetWindow(0, 0)), min_obs=30)
    engine = run_event_study(returns[["AAA", "BBB"]], returns["SPY"], NY_DAY0, config)
    stored = query("SELECT ticker, r.window, car, bhar FROM event_study_results r WHERE model = 'market_adjusted' "
                   "AND returns_kind = 'log' ORDER BY ticker, r.window")
    expected = engine.firm_windows.sort_values(["firm", "window"])
    assert [(t, w) for t, w, _, _ in stored] == list(zip(expected["firm"], expected["window"], strict=True))
    np.testing.assert_allclose([row[2:] for row in stored], expected[["car", "bhar"]].to_numpy(), rtol=1e-12)
    dates = cli("eventstudy", "run", "--event", "ny-event", "--estimation", "2024-06-03:2025-05-23")
    assert dates.code == 0, dates.out
    [(start, end, t_obs)] = query("SELECT DISTINCT estimation_start, estimation_end, T FROM event_study_results "
                                  "WHERE ticker = 'AAA' AND model = 'market'")
    assert (start, end, t_obs) == (date(2024, 6, 3), date(2025, 5, 23), 245)
    parameters = query("SELECT parameters->>'estimation' FROM event_study_runs ORDER BY run_id")
    assert parameters == [("[-200,-11]",), ("2024-06-03:2025-05-23",)]


def test_usage_errors(study_db, cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli("eventstudy", "run", "--help")
    assert exit_info.value.code == 0 and "--estimation START:END" in capsys.readouterr().out
    assert cli("eventstudy", "run", "--event", "nope").code == 2
    assert cli("eventstudy", "run", "--min-obs", "2").code == 2
    with pytest.raises(SystemExit) as exit_info:
        cli("eventstudy", "run", "--windows", "0-1")
    assert exit_info.value.code == 2
    assert "expected a window of session offsets START:END" in capsys.readouterr().err


def test_the_dashboard_api_on_a_prices_frame_equals_the_connection(study_db, cli):
    con = connect_readonly(study_db)
    try:
        events = read_events(con, ["ny-event", "tokyo"])
        prices = con.execute("SELECT ticker, date, adj_close FROM prices").df()
        from_con = compute_event_studies(con, events, StudySettings())
    finally:
        con.close()
    from_frame = compute_event_studies(prices, events, StudySettings())
    for name in ["daily", "results", "cross", "cross_daily", "exclusions", "day0", "overlaps"]:
        pd.testing.assert_frame_equal(getattr(from_con, name), getattr(from_frame, name), obj=name)
    assert list(from_con.results.columns) == RESULT_COLUMNS
    assert set(from_con.results["event_id"]) == {"ny-event", "tokyo"}
    assert from_con.pairs["status"].value_counts().to_dict() == {"computed": 3, "excluded": 1}


def test_without_detail_the_results_are_the_same_and_nothing_else_is_built(study_db):
    con = connect_readonly(study_db)
    try:
        events = read_events(con, ["ny-event", "tokyo", "no-prices"])
        full = compute_event_studies(con, events)
        lean = compute_event_studies(con, events, detail=False)
    finally:
        con.close()
    pd.testing.assert_frame_equal(lean.results, full.results)
    for name in ("pairs", "exclusions", "failures", "day0", "notes"):
        pd.testing.assert_frame_equal(getattr(lean, name), getattr(full, name))
    assert not full.daily.empty and not full.cross.empty and not full.overlaps.empty
    assert lean.daily.empty and lean.cross.empty and lean.cross_daily.empty and lean.overlaps.empty
