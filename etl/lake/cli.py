"""``python -m etl export``: write the warehouse's ``cost`` rows to the FOCUS Parquet lake (``etl/lake/export.py``).

Exit status: 0 when the export succeeded (also when nothing had changed), 1 when it failed or the filters matched
no cost rows, 2 for a usage or settings error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb

from etl import pipelines
from etl.context import Context
from etl.lake.export import PERIOD_KEY, PROVIDER_KEY, ExportReport, LakeError, Partition, Selection
from etl.loadlog import format_totals
from etl.report import format_table
from etl.warehouse import WarehouseMissingError

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="write the cost rows as Hive-partitioned Parquet (the FOCUS lake) for other engines",
        description=f"Write the warehouse's cost rows (FOCUS columns, DECIMAL costs, provenance x_* columns) as "
                    f"Parquet under DIR/{PROVIDER_KEY}=<slug>/{PERIOD_KEY}=<YYYY-MM-DD>/, one partition per "
                    "provider and billing period. Only partitions whose content changed since the last export are "
                    "rewritten, each replaced as a whole; the warehouse is only read. Partitions whose rows left "
                    "the warehouse are kept and reported.")
    export.add_argument("--to", type=Path, metavar="DIR",
                        help="the lake's folder (default: setting export.lake_dir)")
    export.add_argument("--provider", action="append", default=[], metavar="NAME",
                        help="only this ServiceProviderName (repeatable; default: all)")
    export.add_argument("--period", action="append", default=[], type=_month, metavar="YYYY-MM",
                        help="only this billing period (repeatable; default: all)")
    export.add_argument("--since", type=_month, metavar="YYYY-MM", help="only billing periods from this month on")
    export.add_argument("--force", action="store_true", help="rewrite the selected partitions even if unchanged")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    selection = Selection(tuple(args.provider), tuple(args.period), args.since)
    try:
        report = pipelines.export_lake(ctx.config, ctx.warehouse, args.to, selection, force=args.force)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except (LakeError, WarehouseMissingError, OSError, duckdb.Error) as exc:
        log.exception("export failed")
        print(f"error: export failed, the lake's partitions are as they were: {exc}")
        return 1
    if not (report.written or report.unchanged or report.kept):
        if selection.everything:
            print("the warehouse has no cost rows yet; nothing to export")
            return 0
        print("error: no cost rows match --provider/--period/--since; nothing was exported")
        return 1
    print(_table(report))
    print(f"export: {report.counts()}")
    return 0


def _table(report: ExportReport) -> str:
    def line(partition: Partition, status: str) -> tuple[object, ...]:
        return (partition.path, partition.provider, partition.period, partition.rows,
                format_totals(list(partition.totals)), status)

    rows = ([line(p, "written") for p in report.written] + [line(p, "unchanged") for p in report.unchanged]
            + [(entry["path"], entry["ServiceProviderName"], entry["BillingPeriodStart"], entry["rows"], "-",
                "kept: no longer in the warehouse") for entry in report.kept])
    return format_table(["partition", "provider", "period", "rows", "covers", "status"], sorted(rows))


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from None
