"""The command line, run as cron runs it (a separate process, no terminal) and in-process for detail."""

from __future__ import annotations

import argparse
import io
import logging
import sys

import pytest

from etl.cli import build_parser
from etl.logs import setup_logging
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import run_process
from tests.helpers import table_rows


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """Every command and sub-command of the CLI, walked from the parser itself."""
    paths = [list(prefix)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += command_paths(sub, (*prefix, name))
    return paths


COMMANDS = command_paths(build_parser())


def test_help_lists_every_command():
    result = run_process(["--help"])
    assert result.returncode == 0
    for command in ("init", "status", "demo", "billing", "prices", "fx", "events", "eventstudy", "run", "cron"):
        assert f"\n    {command} " in result.stdout
    assert "--db PATH" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_every_command_has_help(command, cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(*command, "--help")
    assert exit_info.value.code == 0
    assert "usage: python -m etl" in capsys.readouterr().out


def test_billing_load_prints_a_summary_and_exits_1_when_a_file_failed(tmp_path):
    good = write(tmp_path / "good.csv", HEADER, focus_row("10.00", "2025-06-01"),
                 focus_row("5.00", "2025-06-01", account="A2", currency="EUR"))
    bad = write(tmp_path / "bad.csv", HEADER, focus_row("x", "2025-06-01"))
    db = tmp_path / "w.duckdb"
    result = run_process(["billing", "load", str(good), str(bad)], env={"SPENDSCOPE_DB": str(db)})
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split() == ["source", "kind", "format", "rows", "covers", "status", "detail"]
    rows = {row["source"]: row for row in table_rows(result.stdout)}
    assert (rows[str(good)]["covers"], rows[str(good)]["status"]) == ("EUR 5.00; USD 10.00", "loaded")
    assert rows[str(bad)]["status"] == "failed" and 'line 2, column "BilledCost"' in rows[str(bad)]["detail"]
    assert f'error: {bad}: line 2, column "BilledCost": "x" is not a number' in result.stdout
    assert "ERROR" in result.stderr and db.exists()

    again = run_process(["--db", str(db), "billing", "load", str(good)])
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_a_missing_path_fails_the_run(cli, tmp_path):
    result = cli("billing", "load", str(tmp_path / "nope.csv"))
    assert result.code == 1
    assert f"error: {tmp_path / 'nope.csv'}: no such file or directory" in result.out


def test_status_before_and_after_a_load(cli, tmp_path):
    assert cli("status").code == 1
    assert cli("init").code == 0
    empty = cli("status")
    assert empty.code == 0 and "schema version" in empty.out
    cli("billing", "load", str(write(tmp_path / "j.csv", HEADER, focus_row("2.50", "2025-06-01"))))
    status = cli("status")
    assert status.code == 0
    assert any(line.split()[:3] == ["CoreWeave", "USD", "1"] and "2.50" in line for line in status.out.splitlines())
    assert "SYNTHETIC" not in status.out  # real data is never labelled as the demo's


def test_a_bad_config_file_is_a_usage_error(tmp_path, monkeypatch):
    bad = tmp_path / "config.toml"
    bad.write_text("nonsense = 1\n")
    result = run_process(["--config", str(bad), "status"])
    assert result.returncode == 2
    assert "unknown setting(s) nonsense" in result.stderr


def test_status_marks_what_synthetic_loads_wrote(cli, load_billing, tmp_path):
    from etl.billing.base import LoadOptions

    load_billing(write(tmp_path / "real.csv", HEADER, focus_row("2.50", "2025-06-01")))
    load_billing(write(tmp_path / "made_up.csv", HEADER, focus_row("1.00", "2025-06-01", account="A2"),
                       focus_row("3.00", "2025-06-02", account="A2", currency="EUR")),
                 options=LoadOptions(synthetic=True))
    lines = cli("status").out.splitlines()
    assert "  SYNTHETIC rows: written by `python -m etl demo` (loads marked synthetic in load_log), not real spend" in (
        lines)
    billing = {tuple(line.split()[:3]): line.split()[-1] for line in lines
               if line.startswith("CoreWeave ") and line.split()[1] in ("EUR", "USD")}
    assert billing == {("CoreWeave", "EUR", "1"): "1", ("CoreWeave", "USD", "2"): "1"}  # rows, SYNTHETIC rows
    recent = lines[lines.index("last 2 loads:") + 3:][:2]  # after the header and its rule
    assert [line.split()[2] for line in recent] == [str(tmp_path / "made_up.csv"), str(tmp_path / "real.csv")]


def test_status_of_an_older_warehouse_says_to_upgrade_it(cli, warehouse, db_path):
    import duckdb

    from etl.warehouse import latest_schema_version

    with warehouse.write("init"):
        pass
    con = duckdb.connect(str(db_path))  # as published before migration 0004 and its views
    con.execute("DELETE FROM schema_migrations WHERE version >= 4; DROP VIEW load_history; DROP VIEW source_status")
    con.close()
    result = cli("status")
    assert result.code == 1
    assert result.out.splitlines()[1] == (f"schema version: 3 of {latest_schema_version()} - run `python -m etl init` "
                                          "to upgrade")
    assert "last" not in result.out


def test_log_lines_go_to_the_stderr_of_the_moment_not_a_stream_swapped_out_since(capsys):
    swapped = io.StringIO()
    original, sys.stderr = sys.stderr, swapped
    try:
        setup_logging("INFO")  # set up while stderr is a stream that is closed afterwards
    finally:
        sys.stderr = original
    swapped.close()
    logging.getLogger("etl.test").info("after the swap")
    assert "INFO etl.test: after the swap" in capsys.readouterr().err
