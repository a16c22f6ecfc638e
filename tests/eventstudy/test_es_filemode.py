"""``eventstudy file`` end to end: CSV in, CSV out, and located error messages for bad input."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from es_reference import HandStudy

from etl.cli import main as cli_main

DAILY_TESTS = ["t_test", "brown_warner_1980", "brown_warner_1985", "patell", "bmp", "sign", "generalized_sign", "rank",
               "wilcoxon", "lamb", "corrado_sign", "modified_rank", "patell_kp", "bmp_kp"]
CAR_TESTS = ["car_t_test", "car_brown_warner_1985", "car_patell", "car_bmp", "car_rank", "car_lamb", "car_patell_kp",
             "car_bmp_kp", "car_grank", "bhar_t", "bhar_skew_t"]
DAILY_HEADER = ",".join(["date", "n", "aar", "r_bar", *DAILY_TESTS, *(f"{t}_p" for t in DAILY_TESTS),
                         *(f"{t}_stars" for t in DAILY_TESTS)])
CAR_HEADER = ",".join(["window_start", "window_end", "n", "days", "caar", "bhar_mean", "r_bar", *CAR_TESTS,
                       *(f"{t}_p" for t in CAR_TESTS), *(f"{t}_stars" for t in CAR_TESTS)])
FIRMS_HEADER = "firm,T,alpha,beta,s,r2,car,bhar"
ESTIMATION, EVENT = "2019-04-01:2020-03-13", "2020-03-16:2020-03-20"


def _data() -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2020)
    dates = pd.bdate_range("2019-03-01", "2020-03-31")
    market = rng.normal(0.0, 0.012, len(dates))
    returns = np.column_stack([b * market + rng.normal(0.0, 0.02, len(dates)) for b in (0.7, 1.1, 1.4, 0.9)])
    returns[[40, 41, 120], 1] = np.nan  # gaps in the estimation window
    returns[:255, 3] = np.nan  # listed a few weeks before the event: excluded
    returns[dates.get_loc(pd.Timestamp("2020-03-18")), 2] = np.nan  # no return on an event day
    return dates, returns, market


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def _write_inputs(directory: Path) -> tuple[Path, Path]:
    dates, returns, market = _data()
    lines = ["date,AMZN,ZM,UBER,NEWCO"]
    lines += [
        f"{d:%Y-%m-%d}," + ",".join(_cell(v) for v in row) for d, row in zip(dates, returns, strict=True)
    ]
    r_path = directory / "R.csv"
    r_path.write_text("\n".join(lines) + "\n")
    m_path = directory / "M.csv"
    m_lines = [f"{d:%Y-%m-%d},{_cell(v)}" for d, v in zip(dates, market, strict=True)]
    m_path.write_text("\n".join(["date,GSPC", *m_lines]) + "\n")
    return r_path, m_path


def _run_cli(argv: list[str]) -> int:
    return cli_main(argv)


def _stars(cell: object) -> str:
    """A stars cell as read back by pandas: empty cells come back as NaN."""
    return "" if isinstance(cell, float) and math.isnan(cell) else str(cell)


def _stars_of(p: float) -> str:
    return "***" if p <= 0.01 else "**" if p <= 0.05 else "*" if p <= 0.10 else ""


def _argv(r_path: Path, m_path: Path, out: Path, estimation: str = ESTIMATION) -> list[str]:
    return [
        "eventstudy", "file", "--returns", str(r_path), "--market", str(m_path), "--returns-kind", "log",
        "--estimation", estimation, "--event-window", EVENT, "--out", str(out),
    ]  # fmt: skip


def _hand() -> HandStudy:
    dates, returns, market = _data()
    day0 = dates.get_loc(pd.Timestamp("2020-03-16"))
    rel = [k - day0 for k in range(len(dates))]
    est = (dates.get_loc(pd.Timestamp("2019-04-01")) - day0, dates.get_loc(pd.Timestamp("2020-03-13")) - day0)
    return HandStudy(returns[:, :3], market, rel, est, [(0, 4)], log_returns=True)


def test_file_mode_writes_the_three_tables_with_hand_computed_values(tmp_path: Path, capsys) -> None:
    r_path, m_path = _write_inputs(tmp_path)
    assert _run_cli(_argv(r_path, m_path, tmp_path / "out")) == 0
    out = tmp_path / "out"
    assert (out / "daily.csv").read_text().splitlines()[0] == DAILY_HEADER
    assert (out / "car.csv").read_text().splitlines()[0] == CAR_HEADER
    assert (out / "firms.csv").read_text().splitlines()[0] == FIRMS_HEADER
    daily = pd.read_csv(out / "daily.csv")
    car = pd.read_csv(out / "car.csv")
    firms = pd.read_csv(out / "firms.csv")
    exclusions = pd.read_csv(out / "exclusions.csv")
    hand = _hand()

    assert daily["date"].tolist() == ["2020-03-16", "2020-03-17", "2020-03-18", "2020-03-19", "2020-03-20"]
    assert daily["n"].tolist() == [3, 3, 2, 3, 3]
    for pos, row in enumerate(hand.event_rows):
        expected = hand.daily(row)
        for column in daily.columns[1:]:
            if column.endswith("_stars"):
                assert _stars(daily.loc[pos, column]) == _stars_of(expected[column.removesuffix("_stars") + "_p"])
            else:
                assert daily.loc[pos, column] == pytest.approx(expected[column], rel=1e-9, abs=1e-12), column

    window = hand.window((0, 4))
    assert car.loc[0, "window_start"] == "2020-03-16" and car.loc[0, "window_end"] == "2020-03-20"
    for column in car.columns[2:]:
        if column.endswith("_stars"):
            assert _stars(car.loc[0, column]) == _stars_of(window[column.removesuffix("_stars") + "_p"]), column
        else:
            assert car.loc[0, column] == pytest.approx(window[column], rel=1e-9, abs=1e-12), column

    assert firms["firm"].tolist() == ["AMZN", "ZM", "UBER"]
    assert firms["T"].tolist() == hand.T
    for i in range(3):
        per_firm = hand.firm_car(i, (0, 4), log_returns=True)
        expected = {"alpha": hand.alpha[i], "beta": hand.beta[i], "s": hand.s[i], "r2": hand.r2[i]}
        expected |= {"car": per_firm["car"], "bhar": per_firm["bhar"]}
        for column, value in expected.items():
            assert firms.loc[i, column] == pytest.approx(value, rel=1e-9, abs=1e-15), (i, column)

    assert exclusions["firm"].tolist() == ["NEWCO"]
    assert "minimum 60" in exclusions.loc[0, "reason"]
    assert "CAAR" in capsys.readouterr().out


def test_file_mode_logs_each_step_and_the_exclusion(tmp_path: Path, caplog) -> None:
    r_path, m_path = _write_inputs(tmp_path)
    with caplog.at_level(logging.INFO, logger="etl.eventstudy"):
        assert _run_cli(_argv(r_path, m_path, tmp_path / "out")) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"read {r_path}: ") for m in messages)
    assert any(m.startswith("excluded NEWCO: only ") for m in messages)
    assert sum(m.startswith("wrote ") for m in messages) == 4


def _replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def _field(path: Path, line: int, col: int, value: str) -> None:
    fields = path.read_text().splitlines()[line - 1].split(",")
    fields[col] = value
    _replace_line(path, line, ",".join(fields))


BAD_INPUTS = {
    "number": (lambda r, m: _field(r, 5, 2, "1.2.3"), "R.csv: line 5, column 'ZM': cannot parse '1.2.3'"),
    "infinite": (lambda r, m: _field(r, 9, 1, "inf"), "R.csv: line 9, column 'AMZN': 'inf' is not a finite"),
    "date": (lambda r, m: _field(r, 4, 0, "2019-13-01"), "R.csv: line 4, column 'date': cannot parse"),
    "duplicate": (
        lambda r, m: _field(r, 7, 0, "2019-03-07"),
        "R.csv: line 7, column 'date': duplicate date 2019-03-07 (first on line 6)",
    ),
    "unsorted": (
        lambda r, m: _field(r, 7, 0, "2019-02-28"),
        "R.csv: line 7, column 'date': date 2019-02-28 comes after 2019-03-07 on line 6",
    ),
    "fields": (lambda r, m: _replace_line(r, 3, "2019-03-04,0.1"), "R.csv: line 3: expected 5 fields"),
    "header": (lambda r, m: _field(r, 1, 0, "day"), "R.csv: line 1, column 1: the first column must be"),
    "repeated firm": (lambda r, m: _field(r, 1, 2, "AMZN"), "R.csv: line 1, column 3: duplicate column"),
    "market number": (lambda r, m: _field(m, 12, 1, "n/a"), "M.csv: line 12, column 'GSPC': cannot parse"),
    "market columns": (lambda r, m: _replace_line(m, 1, "date,GSPC,NDX"), "M.csv: line 1: expected 2 col"),
    "simple below -1": (None, "R.csv: line 6, column 'UBER': simple return -1.5 is below -100 %"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_names_file_line_and_column(tmp_path: Path, caplog, case: str) -> None:
    r_path, m_path = _write_inputs(tmp_path)
    corrupt, expected = BAD_INPUTS[case]
    argv = _argv(r_path, m_path, tmp_path / "out")
    if corrupt is None:
        _field(r_path, 6, 3, "-1.5")
        argv[argv.index("log")] = "simple"
    else:
        corrupt(r_path, m_path)
    with caplog.at_level(logging.ERROR, logger="etl.eventstudy"):
        assert _run_cli(argv) == 1
    assert expected in caplog.text
    assert not (tmp_path / "out").exists()


def test_windows_without_sessions_and_disjoint_files_are_rejected(tmp_path: Path, caplog) -> None:
    r_path, m_path = _write_inputs(tmp_path)
    with caplog.at_level(logging.ERROR, logger="etl.eventstudy"):
        assert _run_cli(_argv(r_path, m_path, tmp_path / "o1", estimation="2010-01-01:2010-06-30")) == 1
    assert "--estimation 2010-01-01..2010-06-30: no date of" in caplog.text and "R.csv" in caplog.text
    caplog.clear()
    old_market = tmp_path / "M_2010.csv"
    old_market.write_text("date,GSPC\n2010-01-04,0.01\n2010-01-05,-0.02\n")
    with caplog.at_level(logging.ERROR, logger="etl.eventstudy"):
        assert _run_cli(_argv(r_path, old_market, tmp_path / "o2")) == 1
    assert "R.csv (2019-03-01..2020-03-31) and" in caplog.text
    assert "M_2010.csv (2010-01-04..2010-01-05) have no date in common" in caplog.text


def test_malformed_window_option_is_a_usage_error(tmp_path: Path, capsys) -> None:
    r_path, m_path = _write_inputs(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        _run_cli(_argv(r_path, m_path, tmp_path / "out", estimation="2019-04-01..2020-03-13"))
    assert exit_info.value.code == 2
    assert "expected START:END as YYYY-MM-DD:YYYY-MM-DD" in capsys.readouterr().err
