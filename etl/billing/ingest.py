"""Reading a source's rows into ``cost_line`` in one parallel pass, and still naming the exact line of a bad value.

Numbering records with ``row_number() OVER ()`` while reading makes DuckDB read a CSV or JSON file on one thread,
and neither reader offers a record number (``read_parquet``'s ``file_row_number`` is free). So each file of a CSV
or JSON source is read, parsed, normalised, resolved against the seed tables and inserted into ``cost_line`` by one
parallel ``INSERT … SELECT``, unnumbered: DuckDB keeps insertion order through the scan and projections (not
through joins: see ``lookups.py``), so the file's rows take consecutive row ids in file order, and one ``UPDATE`` of
the load's rows then sets ``x_SourceLine`` from them. A Parquet file is inserted numbered, in one statement;
its lines come from ``file_row_number``, so its rows need not keep their order (:func:`keeps_order`), which lets
DuckDB's parallel insert skip the ordering of its row groups.

The happy path never pays for error reporting: the checked macros raise on the first bad value with line 0. Only
then (:func:`stage_numbered`) is the source read again numbered, on one thread, into the temporary table
``staged_rows``, so that the same error names its exact line.

DuckDB's strict CSV reader also rejects a file whose line endings are mixed (CRLF lines ending in a bare LF, as in
some Azure exports) without a line number. Such a file is accepted after every physical line has been checked to
have as many fields as the header, since the relaxed reader would not report a ragged row; it is inserted from the
numbered staged rows.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from etl.billing.base import Plan, sql_string
from etl.billing.compile import insert_sql, normalised_select, resolved_select
from etl.billing.errors import LoadError, describe_duckdb_error
from etl.billing.lookups import Lookups
from etl.billing.sources import Source

STAGED = "staged_rows"
_INVALID_CSV_STATE = "state machine reached an invalid state"
_QUOTED = sql_string('"(?:[^"]|"")*"')


def keeps_order(kind: str) -> bool:
    """Whether a source of this kind must be inserted in file order (``preserve_insertion_order``): a CSV or JSON
    file's lines are numbered from the row ids its rows take (:func:`number_lines`); a Parquet file's come with
    the rows."""
    return kind != "parquet"


def insert(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
           load_id: int) -> int:
    """Insert the source's rows as load ``load_id`` in one parallel pass per file; their count. The rows of a CSV
    or JSON file have no line yet (:func:`number_lines`). Raises DuckDB's error for a bad value (naming line 0 for
    a CSV or JSON file: see :func:`stage_numbered`)."""
    lookups = Lookups.read(con)
    inserted = 0
    for path in source.files:  # one statement per file: each file's rows take consecutive row ids
        select = normalised_select(source, columns, plan, numbered=source.kind == "parquet", files=[path])
        inserted += con.execute(insert_sql(select, source, plan, load_id, lookups)).fetchone()[0]
    return inserted


def number_lines(con: duckdb.DuckDBPyConnection, source: Source, load_id: int) -> None:
    """Set ``x_SourceLine`` of the rows :func:`insert` inserted from a CSV or JSON source from their row ids, which
    follow each file's records. Cheapest once the insert is committed: in the insert's own transaction DuckDB would
    write every row again at commit (they went to the file during the insert), committed only this column."""
    if source.kind == "parquet":
        return
    offsets = con.execute("SELECT x_SourceFile, min(rowid) FROM cost_line WHERE x_LoadId = ? GROUP BY ALL",
                          [load_id]).fetchall()
    if not offsets:
        return
    first_line = 2 if source.kind == "csv" else 1  # a CSV's line 1 is its header
    start = " ".join(f"WHEN {sql_string(file)} THEN {offset}" for file, offset in offsets)
    con.execute(f"UPDATE cost_line SET x_SourceLine = rowid - (CASE x_SourceFile {start} END) + {first_line} "
                "WHERE x_LoadId = ?", [load_id])


def stage_numbered(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan) -> str:
    """After :func:`insert` failed: read the source again numbered into ``staged_rows`` and resolve it, so that a bad
    value raises its error naming the exact line. Returns the SELECT of the staged rows when nothing fails (a CSV
    file with mixed line endings, whose fields were counted line by line), for :func:`insert_staged`."""
    try:
        _stage(con, source, columns, plan, strict=True)
    except duckdb.Error as exc:
        if source.kind != "csv" or _INVALID_CSV_STATE not in str(exc):
            raise
        for path in source.files:
            check_field_counts(con, path, len(plan.reader_columns or columns))
        _stage(con, source, columns, plan, strict=False)
    staged = f"SELECT * FROM {STAGED}"
    con.execute(f"SELECT count(*) FROM ({resolved_select(staged, source, plan, 0, Lookups.read(con))})").fetchall()
    return staged


def insert_staged(con: duckdb.DuckDBPyConnection, staged: str, source: Source, plan: Plan, load_id: int) -> int:
    """Insert the rows :func:`stage_numbered` staged; their count."""
    return con.execute(insert_sql(staged, source, plan, load_id, Lookups.read(con))).fetchone()[0]


def locate(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan) -> str | None:
    """For a source of several files that failed on a line: the error of the first file that fails when read on
    its own, named with that file (``part_0_0002.csv, line 4, column "Cost": …``), since line numbers restart in
    every file. Reads only; None when no file fails alone."""
    for path in source.files:
        single = replace(source, label=str(path), files=(path,), expected_rows=None)
        try:
            stage_numbered(con, single, columns, plan)
        except (duckdb.Error, LoadError) as exc:
            return f"{path.name}, {describe_duckdb_error(exc) if isinstance(exc, duckdb.Error) else exc}"
        finally:
            drop_staged(con)
    return None


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _stage(con: duckdb.DuckDBPyConnection, source: Source, columns: tuple[str, ...], plan: Plan,
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
