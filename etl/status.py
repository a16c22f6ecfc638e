"""``python -m etl status``: what the warehouse holds and what the last loads did.

Exit status 1 when the most recent attempt of any source failed, so a monitoring cron job can alert on it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.context import Context
from etl.demo.generator import DEMO_TAG_KEY, DEMO_TAG_KEYS, DEMO_TAG_VALUE
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
    demo = " OR ".join(f"Tags->>'{key}' = '{DEMO_TAG_VALUE}'" for key in DEMO_TAG_KEYS)
    spend = con.execute(
        f"""
        SELECT ServiceProviderName, BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost),
               min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE, count(*) FILTER ({demo})
        FROM cost_line GROUP BY 1, 2 ORDER BY 1, 2
        """
    ).fetchall()
    print("\nbilling data (amounts in each row's own currency):")
    header = ["provider", "currency", "rows", "billed", "effective", "first day", "last day"]
    rows = [(p, c, n, f"{b:,.2f}", f"{e:,.2f}", d0, d1, demo_rows) for p, c, n, b, e, d0, d1, demo_rows in spend]
    synthetic = any(row[-1] for row in rows)
    if synthetic:
        print(f"  SYNTHETIC rows: written by `python -m etl demo` (tag {DEMO_TAG_KEY}: {DEMO_TAG_VALUE}), "
              "not real spend")
        print(format_table([*header, "SYNTHETIC rows"], rows))
    else:
        print(format_table(header, [row[:-1] for row in rows]))
    _print_market(con, synthetic)
    unmapped = con.execute(
        """
        SELECT ServiceProviderName, ServiceName, count(*) FROM cost_line WHERE x_CategorySource = 'default'
        GROUP BY ALL ORDER BY 3 DESC
        """
    ).fetchall()
    if unmapped:
        print(f"\n{len(unmapped)} service(s) without a category mapping, counted as Other "
              "(add them to sql/seed/service_category_map.csv):")
        print(format_table(["provider", "service", "rows"], unmapped[:20]))
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


# the prices and FX rates `python -m etl demo` writes where no real ones exist
_SYNTHETIC_LOADS = "SELECT load_id FROM load_log WHERE format = 'synthetic' AND starts_with(source, 'demo:')"


def _print_market(con: duckdb.DuckDBPyConnection, synthetic_spend: bool) -> None:
    """Prices per ticker, and how much of the spend the reporting views can convert."""
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'prices'").fetchall()[0][0]:
        return  # a warehouse from before the market-data migration; the version line says to upgrade
    tickers = con.execute(
        f"""
        SELECT ticker, any_value(exchange), any_value(currency), min(date), max(date), count(*),
               strftime(max(loaded_at), '%Y-%m-%d %H:%M'), (current_date - max(date))::INTEGER,
               CASE WHEN bool_or(load_id IN ({_SYNTHETIC_LOADS})) THEN 'SYNTHETIC (demo)' ELSE '' END
        FROM prices GROUP BY ticker ORDER BY ticker
        """
    ).fetchall()
    print("\nmarket data (daily prices per ticker):")
    if tickers:
        print(format_table(["ticker", "exchange", "currency", "first", "last session", "rows", "loaded (UTC)",
                            "days since", "data"], tickers))
    else:
        print("  none yet: run `python -m etl prices fetch` (or `prices import FILE...`)")
    currency, max_age = con.execute("SELECT reporting_currency, fx_max_age_days FROM reporting_currency").fetchall()[0]
    coverage = con.execute(
        f"""
        SELECT d.currency, sum(d.rows), coalesce(sum(d.rows) FILTER (d.fx_missing), 0),
               (SELECT max(date)::VARCHAR || CASE WHEN bool_or(load_id IN ({_SYNTHETIC_LOADS}))
                                                  THEN ' (SYNTHETIC demo rates)' ELSE '' END
                FROM fx_rates r WHERE r.currency = d.currency AND r.quote_currency = 'USD')
        FROM daily_spend_reporting d GROUP BY d.currency ORDER BY d.currency
        """
    ).fetchall()
    if not coverage:
        return
    print(f"\nreporting currency {currency} (views cost_reporting, daily_spend_reporting; rates at most "
          f"{max_age} days older than the charge):")
    print(format_table(["billing currency", "cost rows", "rows without a usable rate", "latest USD rate"],
                       [(c, n, missing, "-" if c == "USD" else (last or "none")) for c, n, missing, last in coverage]))
    spend = con.execute(
        """
        SELECT provider, sum(effective_cost_reporting), coalesce(sum(rows) FILTER (fx_missing), 0)
        FROM daily_spend_reporting GROUP BY provider ORDER BY provider
        """
    ).fetchall()
    print(f"\nspend in {currency} (rows without a usable rate are not in the total"
          + ("; includes the SYNTHETIC demo rows):" if synthetic_spend else "):"))
    print(format_table(["provider", f"effective ({currency})", "rows not converted"],
                       [(p, f"{total or 0:,.2f}", missing) for p, total, missing in spend]))
