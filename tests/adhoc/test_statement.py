"""The statement check: exactly one query, judged by DuckDB's parser; everything else refused with its reason."""

from __future__ import annotations

import duckdb
import pytest

from etl.adhoc.statement import QueryRefusedError, single_query

ONLY_QUERIES = "statements are not allowed: only one read-only query (SELECT, WITH, DESCRIBE, SUMMARIZE, PIVOT, " \
               "EXPLAIN or SHOW) may run"


SELECT, EXPLAIN, MULTI = duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.MULTI


@pytest.mark.parametrize(("sql", "kind"), [
    ("SELECT 1", SELECT),
    ("with a AS (SELECT 1 AS x) SELECT x FROM a", SELECT),
    ("FROM range(3)", SELECT),
    ("DESCRIBE cost", SELECT),
    ("SUMMARIZE SELECT 1", SELECT),
    ("SHOW TABLES", SELECT),
    ("EXPLAIN SELECT 1", EXPLAIN),
    ("/* why */ EXPLAIN -- the plan\n ANALYZE SELECT 1", EXPLAIN),
    ("PIVOT (SELECT 1 AS a, 2 AS b) ON a USING sum(b)", MULTI),  # DuckDB looks the pivot values up first
    ("PIVOT (SELECT 1 AS a, 2 AS b) ON a USING sum(b); -- a note", MULTI),
    ("PIVOT (SELECT 1 AS a, 2 AS b) ON a IN (1) USING sum(b)", SELECT),
    ("EXPLAIN PIVOT (SELECT 1 AS a) ON a USING count(*)", MULTI),
    ("UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v", SELECT),
    ("SELECT 1;", SELECT),
])
def test_one_query_passes_as_parsed(sql, kind):
    statement = single_query(sql)
    assert (statement.type, statement.query) == (kind, sql)


@pytest.mark.parametrize(("sql", "message"), [
    ("COPY (SELECT 1) TO 'x.csv'", f"COPY {ONLY_QUERIES}"),
    ("ATTACH 'x.duckdb'", f"ATTACH {ONLY_QUERIES}"),
    ("DETACH wh", f"DETACH {ONLY_QUERIES}"),
    ("INSTALL httpfs", f"INSTALL {ONLY_QUERIES}"),
    ("LOAD httpfs", f"LOAD {ONLY_QUERIES}"),
    ("SET enable_external_access = true", f"SET {ONLY_QUERIES}"),
    ("SET VARIABLE x = 1", f"SET {ONLY_QUERIES}"),
    ("USE memory", f"USE {ONLY_QUERIES}"),
    ("PRAGMA version", f"PRAGMA {ONLY_QUERIES}"),
    ("CALL pragma_version()", f"CALL {ONLY_QUERIES}"),
    ("CHECKPOINT", f"CHECKPOINT {ONLY_QUERIES}"),
    ("EXPORT DATABASE 'out'", f"EXPORT {ONLY_QUERIES}"),
    ("CREATE TABLE t (a INTEGER)", f"CREATE {ONLY_QUERIES}"),
    ("CREATE TEMP TABLE t (a INTEGER)", f"CREATE {ONLY_QUERIES}"),
    ("CREATE MACRO m(x) AS x", f"CREATE {ONLY_QUERIES}"),
    ("DELETE FROM load_log", f"DELETE {ONLY_QUERIES}"),
    ("/**/ DROP VIEW cost", f"DROP {ONLY_QUERIES}"),
    ("-- SELECT 1\nUPDATE load_log SET rows = 0", f"UPDATE {ONLY_QUERIES}"),
    # a PIVOT makes any statement around it a MULTI statement: the CREATE or COPY is still seen
    ("CREATE TABLE memory.t AS PIVOT (SELECT 1 AS a) ON a USING count(*)", f"CREATE {ONLY_QUERIES}"),
    ("COPY (PIVOT (SELECT 1 AS a) ON a USING count(*)) TO 'x.csv'", f"COPY {ONLY_QUERIES}"),
    # EXPLAIN ANALYZE runs what it explains
    ("EXPLAIN ANALYZE CREATE TABLE memory.t AS SELECT 1", "EXPLAIN is allowed only of one query"),
    ("EXPLAIN (FORMAT json) SELECT 1", "EXPLAIN is allowed only of one query"),
    ("SELECT 1; SELECT 2", "exactly one statement may run, and this text holds 2"),
    ("SELECT 1 /* ; */; DELETE FROM load_log", "exactly one statement may run, and this text holds 2"),
    ("SELECT ';'; DROP TABLE load_log; --", "exactly one statement may run, and this text holds 2"),
    ("  ;  -- nothing", "there is no SQL statement to run"),
])
def test_anything_else_is_refused_with_its_reason(sql, message):
    with pytest.raises(QueryRefusedError) as refused:
        single_query(sql)
    assert message in str(refused.value)


def test_a_syntax_error_is_duckdbs_own():
    with pytest.raises(duckdb.ParserException, match='syntax error at or near "SELEC"'):
        single_query("SELEC 1")
