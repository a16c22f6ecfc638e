"""``python -m etl prices fetch|import`` and ``python -m etl fx fetch``.

Downloads run before the warehouse's writer lock is taken (a slow Yahoo never holds it); everything is
then written in one write session. When Yahoo cannot be reached at all the commands say so, exit 1 and do
not touch the warehouse. Exit status: 0 when every ticker, pair or file loaded (or was unchanged), 1 when
any failed, 2 for a usage or settings error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from etl import pipelines
from etl.context import Context
from etl.loadlog import LoadRecord, summary_table
from etl.warehouse import WarehouseMissingError, connect_readonly

log = logging.getLogger(__name__)

NOTHING_CHANGED = ("Nothing was changed: the warehouse keeps what it had. Check the network connection or proxy "
                   "(HTTPS_PROXY); without Yahoo access, load price files with `python -m etl prices import FILE...`.")


def register(commands: argparse._SubParsersAction) -> None:
    prices_cmd = commands.add_parser(
        "prices", help="fetch or import daily prices of the providers' parents and benchmarks",
        description="Daily prices (raw and adjusted close, dividends, splits) in table `prices`.")
    sub = prices_cmd.add_subparsers(dest="prices_command", metavar="SUBCOMMAND", required=True)
    fetch = sub.add_parser(
        "fetch", help="fetch new daily prices from Yahoo Finance",
        description="Fetch daily prices from Yahoo Finance, incrementally: from the last stored session minus "
                    "market.overlap_days (a new ticker from market.start). A changed adjustment in the overlap "
                    "(new dividend or split) re-fetches that ticker's full history. Rate limits are waited out "
                    "for up to market.max_backoff_minutes. Exit 1 when any ticker failed.")
    fetch.add_argument("tickers", nargs="*", metavar="TICKER",
                       help="tickers to fetch (default: settings market.tickers, providers.tickers and "
                            "market.benchmarks)")
    fetch.add_argument("--full", action="store_true", help="fetch the full history of every ticker again")
    fetch.set_defaults(func=run_prices_fetch)

    imp = sub.add_parser(
        "import", help="import daily prices from CSV files",
        description="Import CSV price files: Yahoo's layout (Date, Open, High, Low, Close, Adj Close, Volume) "
                    "or a raw-close layout (Date, Open, High, Low, Close, Volume) with an optional "
                    "<TICKER>_dividends.csv beside it, from which a total-return adjusted close is computed. "
                    "Directories are searched for *.csv. Exit 1 when any file failed.")
    imp.add_argument("paths", nargs="+", metavar="FILE", help="price files, directories or globs")
    imp.add_argument("--ticker", metavar="TICKER",
                     help="ticker of the prices (default: the file name, MSFT.csv -> MSFT); one price file only")
    imp.set_defaults(func=run_prices_import)

    fx_cmd = commands.add_parser(
        "fx", help="fetch FX rates for the reporting currency",
        description="FX rates in table `fx_rates`, used by the views cost_reporting and daily_spend_reporting.")
    fx_sub = fx_cmd.add_subparsers(dest="fx_command", metavar="SUBCOMMAND", required=True)
    fx_fetch = fx_sub.add_parser(
        "fetch", help="fetch USD rates of every billing currency from Yahoo Finance",
        description="Fetch daily USD rates (<CUR>USD=X) of every currency in `cost`, of fx.currencies and of "
                    "reporting_currency, incrementally, and record reporting_currency and fx.max_rate_age_days "
                    "for the reporting views. Exit 1 when any pair failed.")
    fx_fetch.add_argument("currencies", nargs="*", metavar="CURRENCY",
                          help="currencies to fetch (default: every billing currency and fx.currencies)")
    fx_fetch.set_defaults(func=run_fx_fetch)


def run_prices_fetch(args: argparse.Namespace, ctx: Context, sleep: Callable[[float], None] = time.sleep) -> int:
    now = datetime.now(UTC)
    try:
        outcome = pipelines.fetch_prices(ctx.config, args.tickers, now=now, full=args.full, sleep=sleep)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if outcome.unreachable:
        return _unreachable(outcome.unreachable_reason, len(outcome.failures), "ticker")
    with ctx.warehouse.write("prices fetch") as session:
        results = pipelines.store_prices(ctx.config, session, outcome.batches, outcome.failures, now)
    return _report(results)


def run_prices_import(args: argparse.Namespace, ctx: Context) -> int:
    from etl.market.csv_import import PriceFileError, expand_price_paths, read_price_file, ticker_from_name

    files, problems = expand_price_paths(args.paths)
    if args.ticker and len(files) > 1:
        print(f"usage error: --ticker names the ticker of one price file, but {len(files)} were given",
              file=sys.stderr)
        return 2
    batches = []
    failures: list[LoadRecord] = []
    for file in files:
        try:
            batches.append(read_price_file(file, args.ticker))
        except (PriceFileError, OSError) as exc:
            files_read = [str(file.path)] + ([str(file.dividends)] if file.dividends else [])
            failures.append(LoadRecord("prices", str(file.path), "failed", "csv",
                                       subject=(args.ticker or ticker_from_name(file.path)).upper(),
                                       files=files_read, error=str(exc)))
            log.error("failed: %s", exc)
    unlogged = [LoadRecord("prices", path, "failed", "csv", error=f"{path}: {problem}") for path, problem in problems]
    results: list[LoadRecord] = []
    if batches or failures:
        with ctx.warehouse.write("prices import") as session:
            results = pipelines.store_prices(ctx.config, session, batches, failures, datetime.now(UTC))
    return _report(results + unlogged)


def run_fx_fetch(args: argparse.Namespace, ctx: Context, sleep: Callable[[float], None] = time.sleep) -> int:
    now = datetime.now(UTC)
    try:
        plan = pipelines.plan_fx(ctx.config, args.currencies)
        outcome = pipelines.fetch_fx(ctx.config, plan, now=now, sleep=sleep)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if outcome.unreachable:
        reasons = [f.error or "" for f in outcome.failures]
        plain = next((r for r in reasons if "yfinance said" not in r), reasons[0])
        return _unreachable(plain, len(plan.currencies), "FX pair")
    with ctx.warehouse.write("fx fetch") as session:
        results = pipelines.store_fx(ctx.config, session, plan, outcome, now)
    if not plan.currencies:
        print(f"nothing to fetch: every currency is USD; recorded reporting currency {plan.reporting_currency}")
    code = _report(results) if plan.currencies else 0
    _print_coverage(ctx)
    return code


def _unreachable(reason: str, count: int, what: str) -> int:
    print(f"error: {reason} (all {count} {what}{'s' if count != 1 else ''} failed)")
    print(NOTHING_CHANGED)
    return 1


def _report(results: list[LoadRecord]) -> int:
    if results:
        print(summary_table(results))
    failed = [r for r in results if not r.ok]
    for result in failed:
        error = result.error or ""
        print(f"error: {error if error.startswith(result.source) else f'{result.source}: {error}'}")
    return 1 if failed or not results else 0


def _print_coverage(ctx: Context) -> None:
    """After an FX fetch: which cost rows still have no usable rate in the reporting currency."""
    try:
        con = connect_readonly(ctx.config.db_path)
    except WarehouseMissingError:
        return
    try:
        currency = con.execute("SELECT reporting_currency FROM reporting_currency").fetchall()[0][0]
        missing = con.execute(
            """SELECT currency, sum(rows) FROM daily_spend_reporting WHERE fx_missing
               GROUP BY 1 ORDER BY 1""").fetchall()
    finally:
        con.close()
    if missing:
        detail = ", ".join(f"{cur} {n}" for cur, n in missing)
        print(f"warning: cost rows without a usable {currency} rate (kept, flagged fx_missing): {detail}")
    else:
        print(f"every cost row can be shown in {currency}")
