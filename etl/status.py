"""``python -m etl status``: what the warehouse holds and what the last loads did.

Exit status 1 when the most recent attempt of any source failed, so a monitoring cron job can alert on it.
:func:`recent_loads` and :func:`failing_sources` are also what the dashboard's Data health page shows; rows
written by ``python -m etl demo`` are marked SYNTHETIC from the view ``synthetic_data``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.context import Context
from etl.report import format_table
from etl.warehouse import WarehouseMissingError, connect_readonly, latest_schema_version, schema_version


def recent_loads(con: duckdb.DuckDBPyConnection, limit: int) -> duckdb.DuckDBPyRelation:
    """The latest ``limit`` load attempts, newest first (view ``load_history``): load_id, kind, source, format,
    dataset, rows, status, detail (the error or message), started_at, finished_at."""
    return con.sql("SELECT load_id, kind, source, format, dataset, rows, status, detail, started_at, finished_at "
                   "FROM load_history ORDER BY load_id DESC LIMIT $limit", params={"limit": limit})


def failing_sources(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Sources whose latest load attempt failed (view ``source_status``), latest failure first: kind, source,
    format, error, failed_at, last_success (NULL when it never loaded)."""
    return con.sql("SELECT kind, source, format, error, last_attempt AS failed_at, last_success FROM source_status "
                   "WHERE status = 'failed' ORDER BY last_attempt DESC, kind, source")


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
          + ("" if version >= latest_schema_version() else " - run `python -m etl init` to upgrade"))
    if version < latest_schema_version():
        return 1  # the views read below may not exist yet
    synthetic = _synthetic(con)
    spend = con.execute(
        """
        SELECT ServiceProviderName, BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost),
               min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE
        FROM cost_line GROUP BY 1, 2 ORDER BY 1, 2
        """
    ).fetchall()
    print("\nbilling data (amounts in each row's own currency):")
    header = ["provider", "currency", "rows", "billed", "effective", "first day", "last day"]
    rows = [(p, c, n, f"{b:,.2f}", f"{e:,.2f}", d0, d1) for p, c, n, b, e, d0, d1 in spend]
    synthetic_spend = bool(synthetic["billing"])
    if synthetic_spend:
        print("  SYNTHETIC rows: written by `python -m etl demo` (loads marked synthetic in load_log), not real spend")
        print(format_table([*header, "SYNTHETIC rows"],
                           [(*row, synthetic["billing"].get((row[0], row[1]), 0)) for row in rows]))
    else:
        print(format_table(header, rows))
    _print_market(con, synthetic, synthetic_spend)
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
    loads = recent_loads(con, recent).fetchall()
    print(f"\nlast {len(loads)} loads:")
    print(format_table(["id", "kind", "source", "format", "rows", "status", "detail", "finished (UTC)"],
                       [(load_id, kind, source, fmt, n, status, _shorten(detail or ""),
                         f"{finished:%Y-%m-%d %H:%M}" if finished else "")
                        for load_id, kind, source, fmt, _, n, status, detail, _, finished in loads]))
    failing = failing_sources(con).project("source, error").order("source").fetchall()
    if failing:
        print(f"\n{len(failing)} source(s) whose latest load failed:")
        for source, error in failing:
            print(f"  {source}: {error}")
        return 1
    return 0


def _shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _synthetic(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """What ``python -m etl demo`` wrote (view ``synthetic_data``): per kind (billing, prices, fx), rows by
    subject: by (provider, currency) for billing, by ticker for prices, by currency for fx."""
    found: dict[str, dict] = {"billing": {}, "prices": {}, "fx": {}}
    for kind, subject, currency, rows in con.execute("SELECT kind, subject, currency, rows FROM synthetic_data"
                                                      ).fetchall():
        found[kind][(subject, currency) if kind == "billing" else subject] = rows
    return found


def _print_market(con: duckdb.DuckDBPyConnection, synthetic: dict[str, dict], synthetic_spend: bool) -> None:
    """Prices per ticker, and how much of the spend the reporting views can convert."""
    tickers = con.execute(
        """
        SELECT ticker, any_value(exchange), any_value(currency), min(date), max(date), count(*),
               strftime(max(loaded_at), '%Y-%m-%d %H:%M'), (current_date - max(date))::INTEGER
        FROM prices GROUP BY ticker ORDER BY ticker
        """
    ).fetchall()
    print("\nmarket data (daily prices per ticker):")
    if tickers:
        print(format_table(["ticker", "exchange", "currency", "first", "last session", "rows", "loaded (UTC)",
                            "days since", "data"],
                           [(*row, "SYNTHETIC (demo)" if row[0] in synthetic["prices"] else "") for row in tickers]))
    else:
        print("  none yet: run `python -m etl prices fetch` (or `prices import FILE...`)")
    currency, max_age = con.execute("SELECT reporting_currency, fx_max_age_days FROM reporting_currency").fetchall()[0]
    coverage = con.execute(
        """
        SELECT d.currency, sum(d.rows), coalesce(sum(d.rows) FILTER (d.fx_missing), 0),
               (SELECT max(date)::VARCHAR FROM fx_rates r WHERE r.currency = d.currency AND r.quote_currency = 'USD')
        FROM daily_spend_reporting d GROUP BY d.currency ORDER BY d.currency
        """
    ).fetchall()
    if not coverage:
        return
    print(f"\nreporting currency {currency} (views cost_reporting, daily_spend_reporting; rates at most "
          f"{max_age} days older than the charge):")
    print(format_table(["billing currency", "cost rows", "rows without a usable rate", "latest USD rate"],
                       [(c, n, missing, "-" if c == "USD" else (last or "none")
                         + (" (SYNTHETIC demo rates)" if last and c in synthetic["fx"] else ""))
                        for c, n, missing, last in coverage]))
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
