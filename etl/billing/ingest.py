"""Reading a source's rows into ``cost_line`` fast, and still naming the exact line of a bad value.

Numbering records with ``row_number() OVER ()`` while reading makes DuckDB read a CSV or JSON file on one thread.
So those files are first parsed and normalised in parallel, unnumbered, into the temporary table ``staged_rows``
(outside any transaction: it holds nothing of the warehouse), whose row ids follow the file (DuckDB keeps
insertion order through projections); the line numbers come from the row ids when the staged rows are resolved and
inserted. If that parallel pass fails on a bad value, the file is staged again numbered, on one thread, so that the
error names its exact line. Parquet records carry their number (``file_row_number``) at no cost and are inserted
in one statement.

DuckDB's strict CSV reader also rejects a file whose line endings are mixed (CRLF lines ending in a bare LF, as in
some Azure exports) without a line number. Such a file is accepted after every physical line has been checked to
have as many fields as the header, since the relaxed reader would not report a ragged row.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from etl.billing.base import Plan, sql_string
from etl.billing.compile import insert_sql, normalised_select, resolved_select
from etl.billing.errors import LoadError, describe_duckdb_error
from etl.billing.sources import Source

STAGED = "staged_rows"
_INVALID_CSV_STATE = "state machine reached an invalid state"
_QUOTED = sql_string('"(?:[^"]|"")*"')


def stage(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan) -> str | None:
    """Parse and normalise a CSV or JSON source into ``staged_rows``; returns the SELECT of the staged rows with
    their ``x_line``, for :func:`insert`. Parquet sources are not staged (None)."""
    if source.kind == "parquet":
        return None
    try:
        return _stage_parallel(con, source, columns, plan)
    except duckdb.Error:
        pass
    try:
        _stage_numbered(con, source, columns, plan, strict=True)
    except duckdb.Error as exc:
        if source.kind != "csv" or _INVALID_CSV_STATE not in str(exc):
            raise
        for path in source.files:
            check_field_counts(con, path, len(plan.reader_columns or columns))
        _stage_numbered(con, source, columns, plan, strict=False)
    return f"SELECT * FROM {STAGED}"


def insert(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan, load_id: int,
           staged: str | None) -> int:
    """Resolve and insert the source's rows (the staged ones, or a Parquet source read directly); their count."""
    normalised = staged or normalised_select(source, columns, plan, numbered=True)
    return con.execute(insert_sql(normalised, source, plan, load_id)).fetchone()[0]


def locate(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan) -> str | None:
    """For a source of several files that failed on a line: the error of the first file that fails when read on
    its own, named with that file (``part_0_0002.csv, line 4, column "Cost": …``), since line numbers restart in
    every file. Reads only; None when no file fails alone."""
    for path in source.files:
        single = replace(source, label=str(path), files=(path,), expected_rows=None)
        try:
            staged = stage(con, single, columns, plan)
            normalised = staged or normalised_select(single, columns, plan, numbered=True)
            con.execute(f"SELECT count(*) FROM ({resolved_select(normalised, single, plan, 0)})").fetchone()
        except (duckdb.Error, LoadError) as exc:
            return f"{path.name}, {describe_duckdb_error(exc) if isinstance(exc, duckdb.Error) else exc}"
        finally:
            drop_staged(con)
    return None


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _stage_parallel(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan) -> str:
    for index, path in enumerate(source.files):
        select = normalised_select(source, columns, plan, numbered=False, files=[path])
        con.execute((f"CREATE OR REPLACE TEMP TABLE {STAGED} AS " if index == 0 else f"INSERT INTO {STAGED} ")
                    + select)
    # row ids of a table do not start at 0 for every file: number each file's rows from its first row id
    offsets = con.execute(f"SELECT x_file, min(rowid) FROM {STAGED} GROUP BY x_file").fetchall()
    if not offsets:
        return f"SELECT * FROM {STAGED}"
    first_line = 2 if source.kind == "csv" else 1  # a CSV's line 1 is its header
    start = " ".join(f"WHEN {sql_string(file)} THEN {offset}" for file, offset in offsets)
    return f"SELECT rowid - (CASE x_file {start} END) + {first_line} AS x_line, * EXCLUDE (x_line) FROM {STAGED}"


def _stage_numbered(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
                    strict: bool) -> None:
    select = normalised_select(source, columns, plan, numbered=True, strict=strict)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS {select}")


def check_field_counts(con: duckdb.DuckDBPyConnection, path: Path, expected: int) -> None:
    """Raise for the first physical line whose field count differs from the header's. Lines with an odd number of
    quotes belong to a record spanning several lines and are not judged."""
    row = con.execute(
        f"""
        SELECT line, fields FROM (
            SELECT row_number() OVER () + 1 AS line,
                   length(regexp_replace(text, {_QUOTED}, '', 'g'))
                   - length(replace(regexp_replace(text, {_QUOTED}, '', 'g'), ',', '')) + 1 AS fields,
                   length(text) - length(replace(text, '"', '')) AS quotes
            FROM read_csv(?, columns = {{'text': 'VARCHAR'}}, header = false, skip = 1, delim = ?, quote = '',
                          escape = '', auto_detect = false, strict_mode = false, compression = 'auto')
        ) WHERE quotes % 2 = 0 AND fields <> ? ORDER BY line LIMIT 1
        """,
        [str(path), chr(30), expected],
    ).fetchone()
    if row:
        raise LoadError(f"line {row[0]}: expected {expected} fields as in the header, found {row[1]} (ragged row)")
