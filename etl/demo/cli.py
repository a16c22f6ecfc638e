"""``python -m etl demo``: write the synthetic exports and load them through the normal adapters."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.billing.base import LoadOptions
from etl.billing.cli import summary_table
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from etl.context import Context
from etl.demo.generator import write_demo_exports


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="build the synthetic demo warehouse (offline)",
        description="Write a deterministic SYNTHETIC company's billing exports (Google Cloud JSON, Azure EA CSV, "
                    "AWS CUR 2.0 Parquet, OCI CSV, CoreWeave FOCUS) for 2024-01..2025-12 and load them "
                    "through the same adapters as real files.",
    )
    demo.add_argument("--out", metavar="DIR", help="where to write the exports (default: setting demo.output_dir)")
    demo.add_argument("--rows", type=int, metavar="N", help="approximate total cost rows (default: demo.rows)")
    demo.add_argument("--seed", type=int, help="random seed (default: demo.seed)")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out or ctx.config.get("demo.output_dir"))
    files = write_demo_exports(out, rows=args.rows or ctx.config.get("demo.rows"),
                               seed=args.seed if args.seed is not None else ctx.config.get("demo.seed"))
    print(f"wrote {len(files)} synthetic export files to {out}")
    if args.no_load:
        return 0
    sources, problems = expand_paths([str(f) for f in files])
    with ctx.warehouse.write("demo load") as con:
        results = load_sources(con, sources, LoadOptions(), ctx.config.get("providers.aliases"))
    print(summary_table(results))
    return 0 if all(r.ok for r in results) and not problems else 1
