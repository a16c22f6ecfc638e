"""``python -m etl status``: what the warehouse holds and what the last loads did.

Exit status 1 when the most recent attempt of any source failed, so a monitoring cron job can alert on it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.context import Context
from etl.report import format_table
from etl.warehouse import WarehouseMissingError, connect_readonly, latest_schema_version, schema_version


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser("status", help="show what the warehouse holds and the last loads",
                                 description="Show the warehouse's contents, freshness and recent loads; exit 1 "
                                             "when the latest load of any source failed.")
    status.add_argument("--loads", type=int, default=10, metavar="N", help="recent loads to list (default 10)")
    status.set_defaults(func=run_status)


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    path = ctx.config.db_path
    try:
        con = connect_readonly(path)
    except WarehouseMissingError as exc:
        print(str(exc))
        return 1
    try:
        return _print_status(con, path, args.loads)
    finally:
        con.close()


def _print_status(con: duckdb.DuckDBPyConnection, path: Path, recent: int) -> int:
    version = schema_version(con)
    published = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"warehouse: {path} (published {published})")
    print(f"schema version: {version} of {latest_schema_version()}"
          + ("" if version == latest_schema_version() else " - run `python -m etl init` to upgrade"))
    spend = con.execute(
        """
        SELECT ServiceProviderName, BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost),
               min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE
        FROM cost_line GROUP BY 1, 2 ORDER BY 1, 2
        """
    ).fetchall()
    print("\nbilling data (amounts in each row's own currency):")
    print(format_table(["provider", "currency", "rows", "billed", "effective", "first day", "last day"],
                       [(p, c, n, f"{b:,.2f}", f"{e:,.2f}", d0, d1) for p, c, n, b, e, d0, d1 in spend]))
    loads = con.execute(
        """
        SELECT load_id, kind, source, format, rows, status, coalesce(error, message, ''),
               strftime(finished_at, '%Y-%m-%d %H:%M')
        FROM load_log ORDER BY load_id DESC LIMIT ?
        """,
        [recent],
    ).fetchall()
    print(f"\nlast {len(loads)} loads:")
    print(format_table(["id", "kind", "source", "format", "rows", "status", "detail", "finished (UTC)"],
                       [(*row[:6], _shorten(row[6]), row[7]) for row in loads]))
    failing = con.execute(
        """
        SELECT source, error FROM load_log
        QUALIFY row_number() OVER (PARTITION BY kind, source ORDER BY load_id DESC) = 1 AND status = 'failed'
        ORDER BY source
        """
    ).fetchall()
    if failing:
        print(f"\n{len(failing)} source(s) whose latest load failed:")
        for source, error in failing:
            print(f"  {source}: {error}")
        return 1
    return 0


def _shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
