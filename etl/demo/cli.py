"""``python -m etl demo``: write the synthetic exports and load them through the normal adapters."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from etl.billing.base import LoadOptions
from etl.billing.cli import summary_table
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from etl.context import Context
from etl.demo.generator import write_demo_exports
from etl.demo.market import store_synthetic_market
from etl.events.catalog import refresh_catalog
from etl.events.store import read_events
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.store import store_study
from etl.eventstudy.warehouse import compute_event_studies


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
    files = write_demo_exports(out, rows=args.rows or ctx.config.get("demo.rows"),
                               seed=args.seed if args.seed is not None else ctx.config.get("demo.seed"))
    print(f"wrote {len(files)} synthetic export files to {out}")
    if args.no_load:
        return 0
    sources, problems = expand_paths([str(f) for f in files])
    seed = args.seed if args.seed is not None else ctx.config.get("demo.seed")
    started = datetime.now(UTC)
    with ctx.warehouse.write("demo load") as con:
        results = load_sources(con, sources, LoadOptions(synthetic=True), ctx.config.get("providers.aliases"))
        market = [] if args.no_market else store_synthetic_market(
            con, seed, ctx.config.get("reporting_currency"), ctx.config.get("fx.max_rate_age_days"))
        if market:  # the catalog's event studies over those prices, so every dashboard page has data offline
            refresh_catalog(con, ctx.config)
            events = read_events(con)
            tables = compute_event_studies(con, events, StudySettings.from_config(ctx.config))
            store_study(con, tables, list(events["event_id"]), started)
    print(summary_table(results))
    if market:
        print(f"stored SYNTHETIC prices for {sum(r.kind == 'prices' for r in market)} tickers and "
              f"{sum(r.kind == 'fx' for r in market)} FX rate series (load_log format 'synthetic'), and the event "
              f"studies of {len(events)} catalog events over them")
    return 0 if all(r.ok for r in results + market) and not problems else 1
