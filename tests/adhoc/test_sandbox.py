"""The sandbox: real answers from the warehouse, and every attempt to break out refused with its reason and no side
effect (the warehouse file unchanged, no file created)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl.adhoc.sandbox import Limits, QueryFailedError, open_sandbox, run_query
from etl.adhoc.statement import QueryRefusedError
from etl.warehouse import Warehouse, WarehouseMissingError
from tests.dashboard import builders

NOT_ALLOWED = "statements are not allowed: only one read-only query"
NO_FILES = "file system operations are disabled by configuration"


def state(folder: Path, db: Path) -> tuple:
    """Everything a query must not change: the warehouse's bytes, inode and mtime, and the folder's files."""
    stat = db.stat()
    return (hashlib.sha256(db.read_bytes()).hexdigest(), stat.st_ino, stat.st_mtime_ns,
            sorted(str(p.relative_to(folder)) for p in folder.rglob("*")))


@pytest.fixture
def untouched(sql_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Runs in the warehouse's folder (so a relative path would land there) and checks nothing changed."""
    monkeypatch.chdir(tmp_path)
    before = state(tmp_path, sql_db)
    yield sql_db
    assert state(tmp_path, sql_db) == before


def test_a_query_answers_from_the_warehouse(sql_db):
    result = run_query(sql_db, "SELECT ServiceProviderName AS provider, BillingCurrency AS currency, "
                               "sum(BilledCost) AS billed FROM cost GROUP BY ALL ORDER BY ALL", Limits())
    totals: dict[tuple[str, str], Decimal] = {}
    for provider, _, _, currency, service, _, _, _ in builders.SERVICES:
        spent = sum(builders.billed(provider, service, day) for day in builders.days())
        totals[(provider, currency)] = totals.get((provider, currency), Decimal(0)) + spent
    assert result.columns == ("provider", "currency", "billed")
    assert result.types == ("VARCHAR", "VARCHAR", "DECIMAL(38,12)")
    assert result.rows == [("CoreWeave", "USD", Decimal("11570")), ("Google Cloud", "USD", Decimal("20740")),
                           ("Microsoft", "EUR", Decimal("6100"))]
    assert result.rows == [(p, c, totals[(p, c)]) for p, c in sorted(totals)]
    assert not result.truncated
    frame = result.frame()
    assert frame.columns.tolist() == ["provider", "currency", "billed"]
    assert frame["billed"].tolist() == [Decimal("11570"), Decimal("20740"), Decimal("6100")]


@pytest.mark.parametrize(("sql", "rows"), [
    ("DESCRIBE daily_spend", 14),
    ("SUMMARIZE SELECT billed_cost FROM daily_spend", 1),
    ("SHOW TABLES", None),
    ("EXPLAIN SELECT count(*) FROM cost", 1),
    ("PIVOT (SELECT provider, currency, billed_cost FROM daily_spend) ON provider USING sum(billed_cost) "
     "ORDER BY currency", 2),
])
def test_describe_summarize_show_explain_and_pivot_run(sql_db, sql, rows):
    result = run_query(sql_db, sql, Limits())
    assert len(result.rows) == rows if rows is not None else "cost" in [r[0] for r in result.rows]


def test_pivot_columns_are_the_pivoted_values(sql_db):
    result = run_query(sql_db, "PIVOT (SELECT provider, currency, billed_cost FROM daily_spend) ON provider "
                               "USING sum(billed_cost) ORDER BY currency", Limits())
    assert result.columns == ("currency", "CoreWeave", "Google Cloud", "Microsoft")
    assert result.rows == [("EUR", None, None, Decimal("6100")), ("USD", Decimal("11570"), Decimal("20740"), None)]


def test_a_ten_million_row_result_is_cut_at_the_row_cap(untouched):
    result = run_query(untouched, "SELECT * FROM range(10000000)", Limits())
    assert len(result.rows) == 10_000 and result.truncated
    assert result.rows[0] == (0,) and result.rows[-1] == (9_999,)


def test_repeated_column_names_are_numbered_in_the_frame(sql_db):
    result = run_query(sql_db, "SELECT 1 AS id, 2 AS id, 3 AS id", Limits())
    assert result.columns == ("id", "id", "id")
    assert result.frame().to_dict("records") == [{"id": 1, "id (2)": 2, "id (3)": 3}]


def test_the_row_cap_is_a_limit_not_a_truncation_of_an_exact_fit(sql_db):
    result = run_query(sql_db, "SELECT * FROM range(3)", Limits(max_rows=3))
    assert len(result.rows) == 3 and not result.truncated


def test_a_cross_join_that_would_run_for_hours_is_stopped_by_the_time_limit(untouched):
    with pytest.raises(QueryFailedError) as failed:
        run_query(untouched, "SELECT count(*) FROM range(1000000) a, range(1000000) b", Limits(time_limit_s=0.5))
    assert str(failed.value) == ("stopped at the time limit of 0.5 s (setting sql.time_limit_s): INTERRUPT Error: "
                                 "Query exceeded maximum execution time")


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM read_csv('/etc/passwd')", f'Cannot access file "/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_text('/etc/passwd')", f'Cannot access file "/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_blob('no-config.toml')", f'Cannot access file "no-config.toml" - {NO_FILES}'),
    ("SELECT * FROM read_blob('warehouse.duckdb.lock')", f'Cannot access file "warehouse.duckdb.lock" - {NO_FILES}'),
    ("SELECT * FROM glob('/*')", f'Cannot access file "/*" - {NO_FILES}'),
    ("SELECT * FROM read_csv('https://example.com/x.csv')", f"https://example.com/x.csv\" - {NO_FILES}"),
    ("SELECT * FROM duckdb_extensions()", NO_FILES),
    ("COPY (SELECT * FROM cost) TO 'stolen.csv'", f"COPY {NOT_ALLOWED}"),
    ("ATTACH 'other.duckdb' AS other", f"ATTACH {NOT_ALLOWED}"),
    ("ATTACH ':memory:' AS scratch", f"ATTACH {NOT_ALLOWED}"),
    ("DETACH wh", f"DETACH {NOT_ALLOWED}"),
    ("INSTALL httpfs", f"INSTALL {NOT_ALLOWED}"),
    ("LOAD httpfs", f"LOAD {NOT_ALLOWED}"),
    ("SET enable_external_access = true", f"SET {NOT_ALLOWED}"),
    ("RESET lock_configuration", f"RESET {NOT_ALLOWED}"),
    ("USE memory", f"USE {NOT_ALLOWED}"),
    ("PRAGMA enable_profiling", f"PRAGMA {NOT_ALLOWED}"),
    ("SELECT 1; DELETE FROM load_log", "exactly one statement may run, and this text holds 2"),
    ("/**/ DROP TABLE load_log", f"DROP {NOT_ALLOWED}"),
    ("SELECT 1 /* ; */; /**/ DROP TABLE load_log", "exactly one statement may run, and this text holds 2"),
    ("CREATE TABLE notes AS SELECT 1 AS x", f"CREATE {NOT_ALLOWED}"),
    ("CREATE TEMP TABLE notes AS SELECT 1 AS x", f"CREATE {NOT_ALLOWED}"),
    ("CREATE MACRO evil() AS 1", f"CREATE {NOT_ALLOWED}"),
    ("DELETE FROM load_log", f"DELETE {NOT_ALLOWED}"),
    ("EXPLAIN ANALYZE CREATE TABLE memory.t AS SELECT 1", "EXPLAIN is allowed only of one query"),
    ("EXPORT DATABASE 'dump'", f"EXPORT {NOT_ALLOWED}"),
])
def test_every_way_out_is_refused_with_its_reason_and_changes_nothing(untouched, sql, message):
    with pytest.raises(QueryRefusedError) as refused:
        run_query(untouched, sql, Limits())
    assert message in str(refused.value)


def test_a_data_changing_query_inside_a_select_is_stopped_by_the_read_only_file(untouched):
    with pytest.raises(QueryFailedError, match='on database "wh" which is attached in read-only mode'):
        run_query(untouched, "WITH gone AS (DELETE FROM load_log RETURNING *) SELECT count(*) FROM gone", Limits())


@pytest.mark.parametrize(("sql", "error"), [
    ("COPY (SELECT 1) TO 'out.csv'", NO_FILES),
    ("ATTACH 'other.duckdb' AS other", NO_FILES),
    ("INSTALL httpfs", NO_FILES),
    ("LOAD httpfs", "Loading external extensions is disabled"),
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("SET max_execution_time = 0", "the configuration has been locked"),
    ("CREATE TABLE wh.main.notes (x INTEGER)", "attached in read-only mode"),
])
def test_the_sandbox_itself_refuses_what_the_statement_check_would(untouched, sql, error):
    """The second layer alone: the hardened connection, with no statement check in front."""
    con = open_sandbox(untouched, Limits())
    try:
        with pytest.raises(duckdb.Error, match=error):
            con.execute(sql)
    finally:
        con.close()


def test_a_syntax_error_is_reported_with_duckdbs_message(sql_db):
    with pytest.raises(QueryFailedError) as failed:
        run_query(sql_db, "SELECT provider FROM daily_spend WHERE", Limits())
    assert str(failed.value) == ('Parser Error: syntax error at or near "WHERE"\n\n'
                                 "LINE 1: SELECT provider FROM daily_spend WHERE\n"
                                 "                                         ^^^^^")


def test_an_unknown_column_is_reported_with_duckdbs_message(sql_db):
    with pytest.raises(QueryFailedError, match='Binder Error: Referenced column "nope" not found'):
        run_query(sql_db, "SELECT nope FROM daily_spend", Limits())


def test_each_query_sees_the_latest_published_warehouse(sql_db):
    before = run_query(sql_db, "SELECT count(*) FROM load_log", Limits()).rows[0][0]
    with Warehouse(sql_db).write("test") as session, session.transaction() as con:
        con.execute("DELETE FROM load_log WHERE kind = 'billing' AND status = 'loaded'")
    after = run_query(sql_db, "SELECT count(*) FROM load_log", Limits()).rows[0][0]
    assert after == before - 4  # one spend file per provider and the Google compute export (the failed load stays)


def test_a_missing_warehouse_says_how_to_create_one(tmp_path):
    with pytest.raises(WarehouseMissingError, match="no warehouse yet"):
        run_query(tmp_path / "none.duckdb", "SELECT 1", Limits())
    assert not (tmp_path / "none.duckdb").exists()


def test_a_malformed_memory_limit_is_named(sql_db):
    with pytest.raises(QueryFailedError, match=r"cannot open the sandbox on .* \(settings sql\.\*\): Parser Error: "
                                               r"Memory must have a number"):
        run_query(sql_db, "SELECT 1", Limits(memory_limit="lots"))


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="ad-hoc SQL limits must be positive"):
        Limits(max_rows=0)
