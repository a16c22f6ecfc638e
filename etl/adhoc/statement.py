"""Which ad-hoc statements may run: exactly one query, judged by DuckDB's own parser (never a regex).

This is the first of two layers; the second, :mod:`etl.adhoc.sandbox`, is what makes a statement that gets
through harmless (read-only file, no file system, locked configuration). Allowed are the statements DuckDB
classifies as SELECT (SELECT, WITH, FROM-first queries, VALUES, UNPIVOT, DESCRIBE, SUMMARIZE, SHOW), PIVOT, and
EXPLAIN [ANALYZE] of any of them. Two cases need care:

- A PIVOT without an ``IN`` list is a MULTI statement (DuckDB looks the pivot values up first), and so is any
  statement that contains one, ``CREATE TABLE t AS PIVOT ...`` included. A MULTI statement passes only when
  it is a query: when its text parses as the subquery of a SELECT.
- ``EXPLAIN ANALYZE`` runs the statement it explains, so EXPLAIN passes only around an allowed query.
"""

from __future__ import annotations

import duckdb

ALLOWED = "SELECT, WITH, DESCRIBE, SUMMARIZE, PIVOT, EXPLAIN or SHOW"


class QueryRefusedError(ValueError):
    """The query may not run here (this check), or it reached for what the sandbox forbids (DuckDB's permission
    error, raised by :mod:`etl.adhoc.sandbox`); the message says why. Nothing was changed."""


def single_query(sql: str) -> duckdb.Statement:
    """The one statement of ``sql``, parsed, when it is an allowed query; raises :class:`QueryRefusedError` otherwise,
    and ``duckdb.ParserException`` (DuckDB's own message) when ``sql`` does not parse."""
    statements = duckdb.extract_statements(sql)
    if not statements:
        raise QueryRefusedError("there is no SQL statement to run")
    if len(statements) > 1:
        raise QueryRefusedError(f"exactly one statement may run, and this text holds {len(statements)}: "
                           "remove the extra ones (a `;` ends a statement)")
    statement = statements[0]
    if _is_query(statement):
        return statement
    keyword = _first_keyword(statement.query)
    if keyword == "EXPLAIN":
        if _is_explained_query(statement):
            return statement
        raise QueryRefusedError(f"EXPLAIN is allowed only of one query ({ALLOWED}): EXPLAIN ANALYZE runs the "
                           "statement it explains")
    raise QueryRefusedError(f"{keyword} statements are not allowed: only one read-only query ({ALLOWED}) may run")


def _is_query(statement: duckdb.Statement) -> bool:
    if statement.type == duckdb.StatementType.SELECT:
        return True
    return statement.type == duckdb.StatementType.MULTI and _parses_as_subquery(statement.query)


def _parses_as_subquery(text: str) -> bool:
    try:
        wrapped = duckdb.extract_statements(f"SELECT * FROM (\n{_without_final_semicolons(text)}\n)")
    except duckdb.ParserException:
        return False
    return len(wrapped) == 1


def _is_explained_query(statement: duckdb.Statement) -> bool:
    """EXPLAIN [ANALYZE] followed by an allowed query (EXPLAIN of a PIVOT is a MULTI statement)."""
    if statement.type not in (duckdb.StatementType.EXPLAIN, duckdb.StatementType.MULTI):
        return False
    rest = _tokens(statement.query)[1:]  # after EXPLAIN
    if rest and rest[0][1].upper() in ("ANALYZE", "ANALYSE"):
        rest = rest[1:]
    if not rest:
        return False
    try:
        explained = duckdb.extract_statements(statement.query[rest[0][0]:])
    except duckdb.ParserException:  # e.g. EXPLAIN (FORMAT json) ...: not a plain EXPLAIN of a query
        return False
    return len(explained) == 1 and _is_query(explained[0])


def _tokens(text: str) -> list[tuple[int, str]]:
    """(position, text) of every token of ``text`` but comments, by DuckDB's tokenizer."""
    found = duckdb.tokenize(text)
    ends = [position for position, _ in found[1:]] + [len(text)]
    return [(position, text[position:end].strip()) for (position, kind), end in zip(found, ends, strict=True)
            if kind != duckdb.token_type.comment]


def _first_keyword(text: str) -> str:
    return _tokens(text)[0][1].upper()


def _without_final_semicolons(text: str) -> str:
    tokens = _tokens(text)
    end = len(text)
    while tokens and tokens[-1][1] == ";":
        end = tokens.pop()[0]
    return text[:end]
