"""``python -m etl status``: what the warehouse holds, how fresh its data is and which failures are open.

Exit status 1 while a failed load is still open (view ``load_failures``: not followed by a successful load of the
same source, or of the same billing accounts, and not dismissed with ``python -m etl loads dismiss``), so a
monitoring cron job alerts on it; ``--json`` prints the same facts as one JSON document (:func:`health_report`)
with the same exit status. Freshness comes from :mod:`etl.freshness`. :func:`recent_loads`, :func:`failures` and
:func:`open_failures` are also what the dashboard's Data health page shows; rows written by
``python -m etl demo`` are marked SYNTHETIC from the view ``synthetic_data``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from etl import freshness
from etl.context import Context
from etl.finops import budgets
from etl.freshness import Freshness, FreshnessSettingsError
from etl.gcp import accounts
from etl.gcp.api import BillingApiSettingsError, account_id
from etl.report import format_table
from etl.warehouse import WarehouseMissingError, connect_readonly, latest_schema_version, schema_version

DISMISS_HINT = "dismiss one with `python -m etl loads dismiss LOAD_ID`"


def recent_loads(con: duckdb.DuckDBPyConnection, limit: int) -> duckdb.DuckDBPyRelation:
    """The latest ``limit`` load attempts, newest first (view ``load_history``): load_id, kind, source, format,
    dataset, rows, status, detail (the error or message), started_at, finished_at."""
    return con.sql("SELECT load_id, kind, source, format, dataset, rows, status, detail, started_at, finished_at "
                   "FROM load_history ORDER BY load_id DESC LIMIT $limit", params={"limit": limit})


def failures(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Every failed load attempt, newest first (view ``load_failures``): load_id, kind, source, format, error,
    failed_at, state (open, resolved or dismissed), resolved_by, dismissed_by, dismissed_at, dismiss_reason."""
    return con.sql("SELECT * FROM load_failures ORDER BY load_id DESC")


def open_failures(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """The failed load attempts still open, newest first: load_id, kind, source, format, error, failed_at."""
    return failures(con).filter("state = 'open'").project("load_id, kind, source, format, error, failed_at")


def health_report(con: duckdb.DuckDBPyConnection, now: datetime, settings: Freshness,
                  gcp_accounts: Sequence[str] = ()) -> dict[str, Any]:
    """What ``status --json`` prints: schema version, freshness per feed (billing per provider and account, prices
    per ticker, FX per pair) and how many are stale, open failures, the budget thresholds crossed at the last
    run (``budget_alerts``, :func:`etl.finops.budgets.alerts`), and ``ok`` (no open failure and the schema is
    current; stale data is reported, not failed on: a feed may legitimately pause)."""
    version = schema_version(con)
    report: dict[str, Any] = {"schema_version": version, "latest_schema_version": latest_schema_version(),
                              "checked_at": _iso(now)}
    if version < latest_schema_version():
        return report | {"ok": False, "error": "the warehouse's schema is older than this code: run "
                                               "`python -m etl init` to upgrade"}
    billing = freshness.billing(con, now, settings)
    prices = freshness.prices(con, now, settings)
    fx = freshness.fx(con, now, settings)
    failing = open_failures(con).df()
    return report | {
        "ok": failing.empty,
        "stale_feeds": int(billing["stale"].sum() + prices["stale"].sum() + fx["stale"].sum()),
        "freshness": {
            "billing": _records(billing, ["provider", "account", "data_until", "days_behind", "lag_days", "stale",
                                          "last_load"]),
            "prices": _records(prices, ["ticker", "exchange", "last_session", "latest_closed", "sessions_behind",
                                        "days_behind", "stale", "loaded_at"]),
            "fx": _records(fx, ["pair", "last_date", "days_behind", "stale", "loaded_at"]),
        },
        "open_failures": _records(failing, ["load_id", "kind", "source", "format", "error", "failed_at"]),
        "gcp_billing_accounts": [{key: _json_value(value) for key, value in row.items()}
                                 for row in accounts.account_status(con, gcp_accounts)],
        "budget_alerts": budgets.alerts(con),
    }


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser("status", help="show what the warehouse holds, its freshness and open failures",
                                 description="Show the warehouse's contents, the freshness of its data and recent "
                                             "loads; exit 1 while a failed load is still open (not followed by a "
                                             "successful load of the same source, nor dismissed).")
    status.add_argument("--loads", type=int, default=10, metavar="N", help="recent loads to list (default 10)")
    status.add_argument("--json", action="store_true",
                        help="print the schema version, freshness per feed, open failures and `ok` as JSON")
    status.set_defaults(func=run_status)


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = Freshness.from_config(ctx.config)
        gcp_accounts = [account_id(value) for value in ctx.config.get("gcp.billing_accounts")]
    except (FreshnessSettingsError, BillingApiSettingsError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    path = ctx.config.db_path
    now = datetime.now(UTC)
    try:
        con = connect_readonly(path)
    except WarehouseMissingError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}) if args.json else str(exc))
        return 1
    try:
        if args.json:
            report = health_report(con, now, settings, gcp_accounts)
            print(json.dumps(report, indent=2))
            return 0 if report["ok"] else 1
        return _print_status(con, path, args.loads, now, settings, gcp_accounts)
    finally:
        con.close()


def _print_status(con: duckdb.DuckDBPyConnection, path: Path, recent: int, now: datetime,
                  settings: Freshness, gcp_accounts: Sequence[str] = ()) -> int:
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
    _print_billing_freshness(freshness.billing(con, now, settings))
    _print_market(con, synthetic, synthetic_spend, now, settings)
    _print_gcp_accounts(accounts.account_status(con, gcp_accounts))
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
                       [(load_id, kind, source, fmt, n, status, shorten(detail or ""),
                         f"{finished:%Y-%m-%d %H:%M}" if finished else "")
                        for load_id, kind, source, fmt, _, n, status, detail, _, finished in loads]))
    failing = open_failures(con).project("load_id, source, error").fetchall()
    if failing:
        print(f"\n{len(failing)} open failure(s), until a later load of the same source succeeds ({DISMISS_HINT}):")
        for load_id, source, error in failing:
            print(f"  load {load_id} {source}: {error}")
        return 1
    return 0


def _print_billing_freshness(feeds: pd.DataFrame) -> None:
    if feeds.empty:
        return
    print("\nbilling freshness by data (latest ChargePeriodEnd loaded; stale beyond the expected lag, settings "
          "freshness.billing_lag_days and freshness.billing_lag_by_provider):")
    print(format_table(["provider", "account", "data until (UTC)", "days behind", "expected lag", "stale",
                        "last load (UTC)"],
                       [(r.provider, r.account, f"{r.data_until:%Y-%m-%d %H:%M}", f"{r.days_behind:g}",
                         f"{r.lag_days:g}", "STALE" if r.stale else "", _minute(r.last_load))
                        for r in feeds.itertuples()]))


def _print_gcp_accounts(checks: list[dict[str, Any]]) -> None:
    if not checks:
        return
    print("\nGoogle Cloud billing accounts (the last check by `python -m etl gcp accounts` or `run`):")
    print(format_table(["account", "name", "visible", "projects", "checked (UTC)", "problem"],
                       [(c["account"], c["name"] or "", {True: "yes", False: "NO"}.get(c["visible"], "?"),
                         _count(c["projects"]) if c["projects"] is not None else "", _minute(c["checked_at"]),
                         shorten(c["error"] or "", 100)) for c in checks]))


def shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _synthetic(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """What ``python -m etl demo`` wrote (view ``synthetic_data``): per kind (billing, prices, fx, gcp_catalog),
    rows by subject: by (provider, currency) for billing, by ticker for prices, by currency for fx, by service for
    the catalog."""
    found: dict[str, dict] = {"billing": {}, "prices": {}, "fx": {}, "gcp_catalog": {}}
    for kind, subject, currency, rows in con.execute("SELECT kind, subject, currency, rows FROM synthetic_data"
                                                      ).fetchall():
        found[kind][(subject, currency) if kind == "billing" else subject] = rows
    return found


def _print_market(con: duckdb.DuckDBPyConnection, synthetic: dict[str, dict], synthetic_spend: bool, now: datetime,
                  settings: Freshness) -> None:
    """Prices per ticker with their freshness, FX pairs, and how much of the spend the reporting views can
    convert."""
    tickers = freshness.prices(con, now, settings)
    print("\nmarket data (daily prices per ticker; behind = closed sessions of its exchange after its last stored "
          f"one, stale beyond {settings.prices_sessions}, setting freshness.prices_sessions):")
    if not tickers.empty:
        print(format_table(["ticker", "exchange", "currency", "first", "last session", "rows", "loaded (UTC)",
                            "sessions behind", "days behind", "stale", "data"],
                           [(r.ticker, r.exchange, r.currency, r.first_session.date(), r.last_session.date(), r.rows,
                             _minute(r.loaded_at), _count(r.sessions_behind), _count(r.days_behind),
                             "STALE" if r.stale else "", "SYNTHETIC (demo)" if r.ticker in synthetic["prices"] else "")
                            for r in tickers.itertuples()]))
    else:
        print("  none yet: run `python -m etl prices fetch` (or `prices import FILE...`)")
    pairs = freshness.fx(con, now, settings)
    if not pairs.empty:
        print(f"\nFX rates per pair (stale {settings.fx_lag_days:g} days after the end of the latest rate date, "
              "setting freshness.fx_lag_days):")
        print(format_table(["pair", "last date", "days behind", "stale"],
                           [(r.pair, r.last_date.date(), f"{r.days_behind:g}", "STALE" if r.stale else "")
                            for r in pairs.itertuples()]))
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


def _minute(moment: Any) -> str:
    return "" if moment is None or pd.isna(moment) else f"{moment:%Y-%m-%d %H:%M}"


def _count(value: Any) -> str:
    return "?" if value is None or pd.isna(value) else str(int(value))


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: timestamps and dates as ISO text, missing values as null."""
    return [{column: _json_value(value) for column, value in zip(columns, row, strict=True)}
            for row in frame[columns].itertuples(index=False)]


def _json_value(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        return _iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _iso(moment: datetime) -> str:
    """UTC as ``2025-06-01T00:00:00Z`` (the warehouse stores naive UTC)."""
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%dT%H:%M:%SZ")
