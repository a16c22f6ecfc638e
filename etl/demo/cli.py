"""``python -m etl demo``: write the synthetic exports and load them through the normal adapters."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from etl import pipelines
from etl.context import Context
from etl.demo.generator import write_demo_exports
from etl.demo.isolation import RealDataError
from etl.loadlog import summary_table

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="build the synthetic demo warehouse (offline)",
        description="Write a deterministic SYNTHETIC company's billing exports (Google Cloud JSON, Azure EA CSV, "
                    "AWS CUR 2.0 Parquet, OCI CSV, CoreWeave FOCUS) for 2024-01..2025-12 and load them "
                    "through the same adapters as real files; then store SYNTHETIC prices and EUR/USD rates "
                    "(2023-2025), so the dashboard works offline. Refuses (exit 1, writing nothing) a warehouse "
                    "that holds real billing rows, prices or FX rates.",
    )
    demo.add_argument("--out", metavar="DIR", help="where to write the exports (default: setting demo.output_dir)")
    demo.add_argument("--rows", type=int, metavar="N", help="approximate total cost rows (default: demo.rows)")
    demo.add_argument("--seed", type=int, help="random seed (default: demo.seed)")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.add_argument("--no-market", action="store_true", help="do not store synthetic prices and FX rates")
    demo.add_argument("--unless-real", action="store_true",
                      help="on a warehouse that holds real data, do nothing and exit 0 (what `make run` uses)")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out or ctx.config.get("demo.output_dir"))
    seed = args.seed if args.seed is not None else ctx.config.get("demo.seed")
    rows = args.rows or ctx.config.get("demo.rows")
    if args.no_load:
        files = write_demo_exports(out, rows=rows, seed=seed)
        print(f"wrote {len(files)} synthetic export files to {out}")
        return 0
    try:
        with ctx.warehouse.write("demo load") as session:
            demo = pipelines.build_demo(ctx.config, session, out, rows, seed, market=not args.no_market)
    except RealDataError as exc:
        if args.unless_real:
            print(f"{ctx.config.db_path} holds real data: served as it is, demo not run")
            return 0
        log.error("demo refused: %s", exc)
        print(f"demo refused: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(demo.files)} synthetic export files to {out}")
    print(summary_table(demo.billing))
    if demo.market:
        studied = len(demo.studies.events) if demo.studies else 0
        print(f"stored SYNTHETIC prices for {sum(r.kind == 'prices' for r in demo.market)} tickers and "
              f"{sum(r.kind == 'fx' for r in demo.market)} FX rate series (load_log format 'synthetic'), and the event "
              f"studies of {studied} catalog events over them")
    return 0 if all(r.ok for r in demo.billing + demo.market) else 1
