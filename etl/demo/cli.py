"""``python -m etl demo``: write the synthetic exports and load them through the normal adapters."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl import pipelines
from etl.context import Context
from etl.demo.generator import write_demo_exports
from etl.loadlog import summary_table


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="build the synthetic demo warehouse (offline)",
        description="Write a deterministic SYNTHETIC company's billing exports (Google Cloud JSON, Azure EA CSV, "
                    "AWS CUR 2.0 Parquet, OCI CSV, CoreWeave FOCUS) for 2024-01..2025-12 and load them "
                    "through the same adapters as real files; then store SYNTHETIC prices and EUR/USD rates "
                    "(2023-2025) for tickers and currencies that have no real data yet, so the dashboard works "
                    "offline.",
    )
    demo.add_argument("--out", metavar="DIR", help="where to write the exports (default: setting demo.output_dir)")
    demo.add_argument("--rows", type=int, metavar="N", help="approximate total cost rows (default: demo.rows)")
    demo.add_argument("--seed", type=int, help="random seed (default: demo.seed)")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.add_argument("--no-market", action="store_true",
                      help="do not store synthetic prices and FX rates (they are never written over real ones)")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out or ctx.config.get("demo.output_dir"))
    seed = args.seed if args.seed is not None else ctx.config.get("demo.seed")
    files = write_demo_exports(out, rows=args.rows or ctx.config.get("demo.rows"), seed=seed)
    print(f"wrote {len(files)} synthetic export files to {out}")
    if args.no_load:
        return 0
    with ctx.warehouse.write("demo load") as session:
        demo = pipelines.build_demo(ctx.config, session, files, seed, market=not args.no_market)
    print(summary_table(demo.billing))
    if demo.market:
        studied = len(demo.studies.events) if demo.studies else 0
        print(f"stored SYNTHETIC prices for {sum(r.kind == 'prices' for r in demo.market)} tickers and "
              f"{sum(r.kind == 'fx' for r in demo.market)} FX rate series (load_log format 'synthetic'), and the event "
              f"studies of {studied} catalog events over them")
    return 0 if all(r.ok for r in demo.billing + demo.market) else 1
