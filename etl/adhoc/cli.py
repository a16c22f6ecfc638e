"""``python -m etl sql``: one read-only query on the published warehouse, printed as a table, CSV or JSON.

Exit status: 0 when the query ran, 1 when it was refused or failed (the reason on stderr), 2 for a usage or
settings error.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from datetime import date, datetime, time
from decimal import Decimal

from etl.adhoc.sandbox import Limits, QueryFailedError, QueryResult, run_query
from etl.adhoc.statement import ALLOWED, QueryRefusedError
from etl.context import Context
from etl.report import format_table
from etl.warehouse import WarehouseMissingError


def register(commands: argparse._SubParsersAction) -> None:
    sql = commands.add_parser(
        "sql", help="run one read-only SQL query on the warehouse",
        description=f"Run one read-only query ({ALLOWED}) on the published warehouse, in a sandbox: no file access, "
                    "no changes, no settings; it is stopped after sql.time_limit_s seconds, and at most sql.max_rows "
                    "rows are printed (a longer result is cut there and marked truncated). Exit 1 when the query is "
                    "refused or fails, with the reason on stderr.")
    sql.add_argument("query", nargs="?", metavar="QUERY", help="the query; `-` reads it from standard input")
    sql.add_argument("-f", "--file", metavar="FILE", help="read the query from FILE (e.g. one of sql/examples)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table",
                     help="output: an aligned table (default), CSV with a header, or one JSON object with columns, "
                          "rows and truncated (decimals, dates and times as strings)")
    sql.add_argument("--max-rows", type=int, metavar="N", help="rows at most (default: setting sql.max_rows)")
    sql.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="time limit of the query (default: setting sql.time_limit_s)")
    sql.set_defaults(func=run_sql)


def run_sql(args: argparse.Namespace, ctx: Context) -> int:
    if (args.query is None) == (args.file is None):
        print("usage error: give the query as an argument, `-` for standard input, or -f FILE (one of them)",
              file=sys.stderr)
        return 2
    try:
        limits = _limits(args, ctx)
        query = _query_text(args)
    except (ValueError, OSError) as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_query(ctx.config.db_path, query, limits)
    except WarehouseMissingError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except QueryRefusedError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except QueryFailedError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    _print(result, args.format, limits)
    return 0


def _limits(args: argparse.Namespace, ctx: Context) -> Limits:
    limits = Limits.from_config(ctx.config)
    if args.max_rows is not None:
        limits = dataclasses.replace(limits, max_rows=args.max_rows)
    if args.timeout is not None:
        limits = dataclasses.replace(limits, time_limit_s=args.timeout)
    return limits


def _query_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        with open(args.file, encoding="utf-8") as handle:
            return handle.read()
    return sys.stdin.read() if args.query == "-" else args.query


def _print(result: QueryResult, output: str, limits: Limits) -> None:
    note = (f"truncated: only the first {limits.max_rows:,} rows are shown, the result has more "
            "(--max-rows, setting sql.max_rows)") if result.truncated else ""
    if output == "table":
        print(format_table(result.columns, result.rows))
        print(f"({len(result.rows):,} row{'' if len(result.rows) == 1 else 's'}{'; ' + note if note else ''})")
        return
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        columns = [{"name": n, "type": t} for n, t in zip(result.columns, result.types, strict=True)]
        print(json.dumps({"columns": columns, "rows": [list(row) for row in result.rows],
                          "truncated": result.truncated}, default=_json_value, ensure_ascii=False))
    if note:
        print(note, file=sys.stderr)


def _json_value(value: object) -> str:
    """Exact decimals, and dates and times in ISO 8601, as strings; anything else JSON lacks as its text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else repr(value)
