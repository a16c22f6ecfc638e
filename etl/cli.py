"""``python -m etl``: the command line of the ETL. Each command group registers itself from its package.

Exit status: 0 only when everything asked for succeeded, 1 when some input failed (the summary says which),
2 for a usage or configuration error; `run` exits 3 when another ETL run holds the warehouse (``etl/run_cli.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from etl import loads as loads_command
from etl import pipelines, run_cli
from etl import status as status_command
from etl.adhoc import cli as adhoc_cli
from etl.billing import cli as billing_cli
from etl.config import ConfigError, load_config
from etl.context import Context
from etl.demo import cli as demo_cli
from etl.events import cli as events_cli
from etl.eventstudy import cli as eventstudy_cli
from etl.finops import cli as finops_cli
from etl.gcp import cli as gcp_cli
from etl.lake import cli as lake_cli
from etl.logs import setup_logging
from etl.market import cli as market_cli
from etl.warehouse import WarehouseBusyError, latest_schema_version

log = logging.getLogger(__name__)

CommandGroup = Callable[[argparse._SubParsersAction], None]
COMMAND_GROUPS: tuple[CommandGroup, ...] = (  # in the order `--help` lists them, after `init`
    status_command.register,
    loads_command.register,
    demo_cli.register,
    billing_cli.register,
    gcp_cli.register,
    market_cli.register,
    events_cli.register,
    eventstudy_cli.register,
    finops_cli.register,
    adhoc_cli.register,
    lake_cli.register,
    run_cli.register,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="SpendScope ETL: load cloud billing exports and market data into the DuckDB warehouse.",
    )
    parser.add_argument("--db", metavar="PATH", help="warehouse file (default: setting `db`, "
                        "env SPENDSCOPE_DB, data/warehouse.duckdb)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: ./config.toml)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level (default: setting `log_level`)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    init = commands.add_parser("init", help="create the warehouse or upgrade its schema",
                               description="Create the warehouse file, or apply pending schema migrations, and "
                                           "load the shipped event catalog.")
    init.set_defaults(func=run_init)
    for register in COMMAND_GROUPS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(Path(args.config) if args.config else None)
        config = config.with_overrides(db=args.db, log_level=args.log_level)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.get("log_level"))
    try:
        return args.func(args, Context(config))
    except WarehouseBusyError as exc:
        log.error("%s", exc)
        return 1


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    warehouse = ctx.warehouse
    with warehouse.write("init") as session:
        catalog = pipelines.refresh_events(ctx.config, session)
    print(f"warehouse {warehouse.path} is at schema version {latest_schema_version()}"
          + (f"; event catalog: {catalog[0].message}" if catalog else ""))
    return 0
