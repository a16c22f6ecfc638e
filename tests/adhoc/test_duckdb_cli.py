"""The analyst's own DuckDB: the PyPI DuckDB CLI pinned in requirements-dev.txt (duckdb-cli, a 1.x release) opens
the warehouse read-only, and every view, macro and example query answers there as it does in this code's DuckDB."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.queries.schema import catalog
from etl.adhoc.examples import examples
from etl.adhoc.sandbox import Limits, run_query
from etl.warehouse import MACROS_FILE, VIEWS_DIR, connect_readonly

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"  # installed into the venv by duckdb-cli
SQL_FILES = [MACROS_FILE, *sorted(VIEWS_DIR.glob("*.sql"))]
VIEWS = [name for path in SQL_FILES for name in re.findall(r"CREATE OR REPLACE VIEW (\w+)", path.read_text())]
MACROS = [name for path in SQL_FILES for name in re.findall(r"CREATE OR REPLACE MACRO (\w+)", path.read_text())]

# One call of every macro in sql/ (a new macro needs its probe here: see test_every_macro_has_a_probe).
MACRO_PROBES = {
    "ss_parse_ts": "SELECT ss_parse_ts('4/1/25') AS v",
    "ss_ts": "SELECT ss_ts('2025-06-10T14:00:00+02:00', 1, 'c') AS v",
    "ss_ts_in_range": "SELECT ss_ts_in_range(TIMESTAMP '1989-12-31 23:59:59') AS v",
    "ss_braced": "SELECT ss_braced('\"team\": \"ml\"') AS v",
    "ss_mul": "SELECT ss_mul(0.000000000001, 0.5), ss_mul(38275.123457, 3.3) AS v",
    "ss_num": "SELECT ss_num('1.2E-5', 1, 'c') AS v",
    "ss_required": "SELECT ss_required('x', 1, 'c') AS v",
    "ss_json_object": "SELECT ss_json_object('\"team\": \"ml\"', 1, 'c') AS v",
    "ss_tags_from_pairs": "SELECT ss_tags_from_pairs([{'k': 'team', 'v': 'ml'}, {'k': 'env', 'v': ''}]) AS v",
    "ss_fx_issue": "SELECT ss_fx_issue('EUR', 'USD', DATE '2025-03-05', NULL, NULL, NULL, NULL, 7) AS v",
    "ss_fx_rate": "SELECT ss_fx_rate('EUR', 'GBP', 1.10, 1.25, NULL) AS v",
    "ss_fx_method": "SELECT ss_fx_method('EUR', 'GBP', 0.88) AS v",
    "ss_fx_rate_date": "SELECT ss_fx_rate_date('EUR', 'GBP', 0.88, DATE '2025-03-04', DATE '2025-03-03') AS v",
    "ss_fx_amount": "SELECT ss_fx_amount(12.5, 1.1) AS v",
    "fx_rates_into": "SELECT * FROM fx_rates_into('EUR') ORDER BY ALL",
    "cost_in_currency": "SELECT * FROM cost_in_currency('EUR', max_age_days := 3) ORDER BY ALL",
    "daily_spend_in_currency": "SELECT * FROM daily_spend_in_currency('GBP') ORDER BY ALL",
    "ss_compute_class": "SELECT provider, ss_compute_class(provider, 'Compute', 'EC2', NULL, description, NULL) AS v "
                        "FROM (VALUES ('AWS', 'Linux p5.48xlarge Instance Hour'), ('AWS', 'Linux m7i.large Instance "
                        "Hour'), ('Microsoft', 'ND96isr H100 v5'), ('AWS', 'EBS:VolumeUsage.gp3 volume')) t(provider, "
                        "description) ORDER BY ALL",
    "daily_compute_class_in_currency": "SELECT * FROM daily_compute_class_in_currency('EUR') ORDER BY ALL",
}


def duckdb_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not DUCKDB_CLI.exists():
        pytest.fail(f"{DUCKDB_CLI} is missing: install requirements-dev.txt (duckdb-cli)")
    return subprocess.run([str(DUCKDB_CLI), "-readonly", str(db), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def as_csv_in_both(db: Path, sql: str, tmp_path: Path) -> tuple[str, str]:
    """The CSV that DuckDB writes for ``sql`` from this code's DuckDB, and from the CLI."""
    ours = tmp_path / "ours.csv"
    con = connect_readonly(db)
    try:
        con.execute(f"COPY ({sql}) TO '{ours}' (FORMAT csv, HEADER)")
    finally:
        con.close()
    theirs = duckdb_cli(db, "-c", f"COPY ({sql}) TO '/dev/stdout' (FORMAT csv, HEADER)")
    assert theirs.returncode == 0, theirs.stderr
    return ours.read_text(), theirs.stdout


def test_the_cli_is_a_duckdb_1_release(sql_db):
    version = duckdb_cli(sql_db, "-c", "SELECT version()")
    assert version.returncode == 0, version.stderr
    assert re.search(r"v1\.\d+\.\d+", version.stdout)


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_answers_the_same_in_the_duckdb_cli(sql_db, tmp_path, view):
    ours, theirs = as_csv_in_both(sql_db, f"SELECT * FROM {view} ORDER BY ALL", tmp_path)
    assert len(ours.splitlines()) > 1, f"view {view} is empty in the fixture warehouse"
    assert theirs == ours


def test_every_macro_has_a_probe():
    assert sorted(MACRO_PROBES) == sorted(MACROS)


@pytest.mark.parametrize("macro", MACROS)
def test_every_macro_answers_the_same_in_the_duckdb_cli(sql_db, tmp_path, macro):
    ours, theirs = as_csv_in_both(sql_db, MACRO_PROBES[macro], tmp_path)
    assert len(ours.splitlines()) > 1
    assert theirs == ours


QUERIES = [pytest.param(e.sql, id=f"example-{e.name}") for e in examples()] + [
    pytest.param(sql, id=f"catalog-{d.name}-{i}") for d in catalog() for i, sql in enumerate(d.examples)]


@pytest.mark.parametrize("sql", QUERIES)
def test_every_example_query_answers_in_the_sandbox_and_in_the_duckdb_cli(sql_db, sql):
    ours = run_query(sql_db, sql, Limits())
    assert not ours.truncated
    theirs = duckdb_cli(sql_db, "-json", "-c", sql)
    assert theirs.returncode == 0, theirs.stderr
    rows = json.loads(theirs.stdout or "[]")
    assert len(rows) == len(ours.rows)
    if rows:
        assert list(rows[0]) == list(ours.columns)


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.name)
def test_every_example_has_a_title_and_answers_on_the_fixture_warehouse(sql_db, example):
    assert example.title and example.sql.startswith(f"-- {example.title}\n")
    assert run_query(sql_db, example.sql, Limits()).rows, f"{example.name} returns no rows on the fixture warehouse"
