"""``python -m etl sql``: formats, the truncated note, exit status 1 with the reason, 2 for usage errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from etl.adhoc.examples import EXAMPLES_DIR
from tests.conftest import run_process

SPEND = "SELECT provider, currency, sum(billed_cost) AS billed FROM daily_spend GROUP BY ALL ORDER BY ALL"


def test_a_table_with_a_row_count(sql_db, cli):
    result = cli("sql", SPEND)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "provider      currency  billed",
        "------------  --------  ------------------",
        "CoreWeave     USD       11570.000000000000",
        "Google Cloud  USD       20740.000000000000",
        "Microsoft     EUR       6100.000000000000",
        "(3 rows)",
    ]


def test_csv(sql_db, cli):
    result = cli("sql", "--format", "csv", SPEND)
    assert result.code == 0, result.err
    assert list(csv.reader(io.StringIO(result.out))) == [
        ["provider", "currency", "billed"], ["CoreWeave", "USD", "11570.000000000000"],
        ["Google Cloud", "USD", "20740.000000000000"], ["Microsoft", "EUR", "6100.000000000000"]]


def test_json_keeps_exact_decimals_and_dates_as_strings(sql_db, cli):
    result = cli("sql", "--format", "json", "SELECT min(date) AS first, sum(billed_cost) AS billed, count(*) AS n "
                                            "FROM daily_spend WHERE provider = 'Microsoft'")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "columns": [{"name": "first", "type": "DATE"}, {"name": "billed", "type": "DECIMAL(38,12)"},
                    {"name": "n", "type": "BIGINT"}],
        "rows": [["2025-03-01", "6100.000000000000", 122]], "truncated": False}


def test_a_truncated_result_says_so(sql_db, cli):
    table = cli("sql", "--max-rows", "2", "SELECT * FROM range(5) t(n)")
    assert table.code == 0
    assert table.out.splitlines()[-1] == ("(2 rows; truncated: only the first 2 rows are shown, the result has more "
                                          "(--max-rows, setting sql.max_rows))")
    as_json = cli("sql", "--max-rows", "2", "--format", "json", "SELECT * FROM range(5) t(n)")
    assert json.loads(as_json.out)["rows"] == [[0], [1]] and json.loads(as_json.out)["truncated"] is True
    assert "truncated: only the first 2 rows are shown" in as_json.err


def test_the_row_cap_and_time_limit_come_from_the_settings(sql_db, cli, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_SQL__MAX_ROWS", "4")
    monkeypatch.setenv("SPENDSCOPE_SQL__TIME_LIMIT_S", "0.3")
    assert cli("sql", "--format", "csv", "SELECT * FROM range(10)").out.splitlines()[1:] == ["0", "1", "2", "3"]
    slow = cli("sql", "SELECT count(*) FROM range(1000000) a, range(1000000) b")
    assert slow.code == 1
    assert "failed: stopped at the time limit of 0.3 s (setting sql.time_limit_s)" in slow.err


def test_the_query_from_a_file_or_standard_input(sql_db, cli, monkeypatch):
    from_file = cli("sql", "--format", "csv", "-f", str(EXAMPLES_DIR / "10_monthly_spend.sql"))
    assert from_file.code == 0, from_file.err
    assert from_file.out.splitlines()[:2] == ["month,provider,currency,billed,effective",
                                              "2025-03-01,CoreWeave,USD,2635.000000000000,2371.500000000000"]
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT 42 AS answer"))
    assert cli("sql", "--format", "csv", "-").out == "answer\n42\n"


@pytest.mark.parametrize(("sql", "err"), [
    ("COPY cost TO 'out.csv'", "refused: COPY statements are not allowed"),
    ("SELECT * FROM read_text('/etc/passwd')", "refused: Permission Error: Cannot access file \"/etc/passwd\""),
    ("SELECT 1; SELECT 2", "refused: exactly one statement may run"),
    ("SELECT nope FROM cost", 'failed: Binder Error: Referenced column "nope" not found'),
])
def test_a_refused_or_failed_query_exits_1_with_the_reason(sql_db, cli, sql, err):
    result = cli("sql", sql)
    assert (result.code, result.out) == (1, "")
    assert err in result.err


@pytest.mark.parametrize(("args", "err"), [
    ((), "usage error: give the query as an argument, `-` for standard input, or -f FILE (one of them)"),
    (("SELECT 1", "-f", "x.sql"), "usage error: give the query as an argument"),
    (("-f", "missing.sql"), "usage error: [Errno 2] No such file or directory: 'missing.sql'"),
    (("--max-rows", "0", "SELECT 1"), "usage error: ad-hoc SQL limits must be positive"),
])
def test_usage_errors_exit_2(sql_db, cli, args, err):
    result = cli("sql", *args)
    assert result.code == 2
    assert err in result.err


def test_no_warehouse_exits_1(cli, db_path):
    result = cli("sql", "SELECT 1")
    assert result.code == 1 and "no warehouse yet" in result.err
    assert not db_path.exists()


def test_as_a_real_process(sql_db):
    done = run_process(["--db", str(sql_db), "sql", "--format", "csv", SPEND])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "CoreWeave,USD,11570.000000000000"
    assert "ad-hoc query: 3 rows in" in done.stderr
