"""``python -m etl billing ...``: load billing exports, list the formats."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from etl import pipelines
from etl.billing import registry
from etl.billing.base import LoadOptions
from etl.context import Context
from etl.loadlog import LoadRecord, summary_table
from etl.report import format_table

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    billing = commands.add_parser("billing", help="load cloud billing exports",
                                  description="Load cloud billing exports into the warehouse.")
    sub = billing.add_subparsers(dest="billing_command", metavar="SUBCOMMAND", required=True)

    load = sub.add_parser(
        "load", help="load billing files, directories or globs",
        description="Load billing export files (CSV, CSV.GZ, Parquet, newline-delimited JSON), directories "
                    "(recursively; a folder with an Azure manifest.json loads as one export) or globs. "
                    "The format is detected from the header unless --format is given.",
    )
    load.add_argument("paths", nargs="*", metavar="PATH")
    load.add_argument("--format", choices=sorted(registry.adapters()), help="skip detection, use this format")
    load.add_argument("--dataset", choices=["actual", "amortized"],
                      help="Azure cost details: which dataset the files are (default: from the manifest or "
                           "the file name, else actual)")
    load.add_argument("--currency", metavar="CODE",
                      help="billing currency to assume for exports that have no currency column")
    load.add_argument("--replace", choices=["period", "file"],
                      help="what a newer file replaces: its billing periods (default for whole-period "
                           "exports) or only an earlier load of the same file name (default for OCI)")
    load.add_argument("--mapping", metavar="FILE", help="TOML column mapping for --format generic")
    live = load.add_argument_group("Google Cloud billing export in BigQuery (instead of files)")
    live.add_argument("--bigquery", metavar="TABLE",
                      help="project.dataset.gcp_billing_export_[resource_]v1_<ACCOUNT>: aggregate it in BigQuery "
                           "and load the invoice months a run re-reads (see README, Google Cloud BigQuery export)")
    live.add_argument("--location", help="BigQuery location of the export's dataset (e.g. US, EU)")
    live.add_argument("--labels", action="store_true", help="keep the resource labels in the grain (more rows)")
    live.add_argument("--backfill-months", type=int, help="invoice months the first load reads (default 13)")
    live.add_argument("--max-bytes-billed", type=int, help="refuse a query estimated above this many bytes")
    live.add_argument("--billing-project", help="project whose query jobs run and are billed (default: the table's)")
    load.set_defaults(func=run_load)

    formats = sub.add_parser("formats", help="list the export formats the loader understands")
    formats.set_defaults(func=run_formats)


def run_load(args: argparse.Namespace, ctx: Context) -> int:
    try:
        if bool(args.paths) == bool(args.bigquery):
            raise pipelines.SettingsError("billing load: give either PATH... or --bigquery TABLE")
        if args.bigquery:
            return _print_results(_load_bigquery(args, ctx), [])
        options = pipelines.billing_options(ctx.config, format=args.format, dataset=args.dataset,
                                            currency=args.currency, replace=args.replace, mapping=args.mapping)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    sources, unloaded = pipelines.billing_sources(args.paths)
    with ctx.warehouse.write("billing load") as session:
        results = pipelines.load_billing(ctx.config, session, sources, options) + unloaded
    return _print_results(results, unloaded)


def _load_bigquery(args: argparse.Namespace, ctx: Context) -> list[LoadRecord]:
    """Query and spool the table (before the writer lock), then load it."""
    flags = {"location": args.location, "labels": args.labels or None, "backfill_months": args.backfill_months,
             "max_bytes_billed": args.max_bytes_billed, "billing_project": args.billing_project}
    source = pipelines.bigquery_source(args.bigquery, "--bigquery",
                                       **{key: value for key, value in flags.items() if value is not None})
    fetched = pipelines.fetch_bigquery(ctx.config, source, now=datetime.now(UTC))
    with ctx.warehouse.write("billing load") as session:
        return pipelines.load_bigquery(session, [fetched], LoadOptions())


def _print_results(results: list[LoadRecord], unloaded: list[LoadRecord]) -> int:
    for result in unloaded:
        if result.ok:
            log.warning("skipped %s: %s", result.source, result.message)
        else:
            log.error("failed %s", result.error)
    print(summary_table(results))
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"error: {result.error}")
    return 1 if failed or not results else 0


def run_formats(args: argparse.Namespace, ctx: Context) -> int:
    rows = [(name, ", ".join(adapter.SOURCE_KINDS), adapter.DESCRIPTION)
            for name, adapter in registry.adapters().items()]
    print(format_table(["format", "files", "description"], rows))
    return 0
