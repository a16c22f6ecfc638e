"""``python -m etl demo``: write the synthetic exports and load them through the normal adapters."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from etl import pipelines
from etl.context import Context
from etl.demo.generator import last_full_day, write_demo_exports
from etl.demo.isolation import RealDataError
from etl.demo.real_market import RealMarket, fetch_real_market
from etl.loadlog import LoadRecord, summary_table

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="build the synthetic demo warehouse (works offline)",
        description="Write a deterministic SYNTHETIC company's billing exports (Google Cloud JSON, Azure EA CSV, "
                    "AWS CUR 2.0 Parquet, OCI CSV, CoreWeave FOCUS) from 2024-01 to --end and load them through "
                    "the same adapters as real files, with a SYNTHETIC pricing catalog of their Google Cloud SKUs "
                    "(so Google's GPU/TPU compute is classified; a real `gcp catalog` replaces it); then ask Yahoo "
                    "for the real prices and FX rates of the configured tickers (for at most "
                    "demo.market_timeout_s seconds) and store SYNTHETIC ones for whatever did not come, so the "
                    "dashboard works offline. Refuses (exit 1, writing nothing) a warehouse that holds real billing "
                    "rows.",
    )
    demo.add_argument("--out", metavar="DIR", help="where to write the exports (default: setting demo.output_dir)")
    demo.add_argument("--rows", type=int, metavar="N", help="approximate total cost rows (default: demo.rows)")
    demo.add_argument("--seed", type=int, help="random seed (default: demo.seed)")
    demo.add_argument("--end", type=date.fromisoformat, metavar="YYYY-MM-DD",
                      help="last day of the demo's data (default: yesterday UTC, the last full day)")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    demo.add_argument("--no-market", action="store_true", help="store no prices or FX rates, real or synthetic")
    demo.add_argument("--offline", action="store_true",
                      help="do not ask Yahoo: synthetic prices and FX rates for everything without real ones")
    demo.add_argument("--unless-real", action="store_true",
                      help="on a warehouse that holds real billing data, do nothing and exit 0 (what `make run` uses)")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out or ctx.config.get("demo.output_dir"))
    seed = args.seed if args.seed is not None else ctx.config.get("demo.seed")
    rows = args.rows or ctx.config.get("demo.rows")
    end = args.end or last_full_day()
    if args.no_load:
        files = write_demo_exports(out, rows=rows, seed=seed, end=end)
        print(f"wrote {len(files)} synthetic export files to {out} (2024-01-01 to {end})")
        return 0
    real = None
    if not args.no_market and not args.offline:
        real = fetch_real_market(ctx.config, now=datetime.now(UTC))  # before the writer lock, as `run` does
    try:
        with ctx.warehouse.write("demo load") as session:
            demo = pipelines.build_demo(ctx.config, session, out, rows, seed, end=end, market=not args.no_market,
                                        real=real)
    except RealDataError as exc:
        if args.unless_real:
            print(f"{ctx.config.db_path} holds real data: served as it is, demo not run")
            return 0
        log.error("demo refused: %s", exc)
        print(f"demo refused: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(demo.files)} synthetic export files to {out} (2024-01-01 to {end})")
    print(summary_table(demo.billing))
    print(catalog_line(demo.catalog))
    if demo.market:
        print(market_line(demo, real, offline=args.offline))
    return 0 if all(r.ok for r in demo.billing + demo.catalog + demo.market) else 1


def catalog_line(records: list[LoadRecord]) -> str:
    """One line on the demo's made-up pricing catalog: its services and SKUs, or what failed."""
    failed = [r.error for r in records if not r.ok]
    if failed:
        return f"SYNTHETIC Google Cloud pricing catalog not stored: {'; '.join(filter(None, failed))}"
    return (f"SYNTHETIC Google Cloud pricing catalog: {sum(r.rows or 0 for r in records)} SKUs of "
            f"{', '.join(r.subject or r.source for r in records)} (load_log kind gcp_catalog; a real "
            "`python -m etl gcp catalog` replaces it)")


def market_line(demo: pipelines.DemoBuild, real: RealMarket | None, *, offline: bool) -> str:
    """One line on where the demo's market data came from: Yahoo (real) and what is SYNTHETIC, and why."""
    synthetic = demo.synthetic_market
    tickers = [r.subject for r in synthetic if r.kind == "prices"]
    currencies = [r.subject for r in synthetic if r.kind == "fx"]
    studied = len(demo.studies.events) if demo.studies else 0
    parts = []
    if real and (real.tickers or real.currencies):
        parts.append(f"REAL prices from Yahoo for {len(real.tickers)} tickers ({', '.join(real.tickers)}) and FX "
                     f"rates for {', '.join(real.currencies) or 'no currency'}")
    if tickers or currencies:
        why = ("--offline" if offline else
               f"Yahoo not reachable in {real.timeout_s:g} s" if real and not (real.tickers or real.currencies) else
               "not from Yahoo" if real else "")
        parts.append(f"{why + ': ' if why else ''}SYNTHETIC prices for {', '.join(tickers) or 'no ticker'} and FX "
                     f"rates for {', '.join(currencies) or 'no currency'} (load_log format 'synthetic')")
    return "; ".join(parts) + f"; event studies of {studied} catalog events over them"
