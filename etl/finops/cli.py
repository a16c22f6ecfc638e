"""The finops command groups, each what a step of ``python -m etl run`` does, run on its own and printed:

* ``python -m etl anomalies run``: score every daily spend series and store the anomalies (the ``anomalies``
  step); exit 0, 2 for a bad setting.
* ``python -m etl forecast run``: refit the month- and quarter-end forecasts and check the budgets (the steps
  ``forecasts`` and ``budgets``). Exit 0 when every budget was evaluated, 1 when some could not be (no forecast of
  its parent series), 2 for a settings error. A crossed threshold is printed, not an error: ``status --json`` lists
  it for monitoring.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from etl import pipelines
from etl.context import Context
from etl.finops import anomalies, budgets, forecast
from etl.finops.anomalies import AnomalySettings
from etl.report import format_table

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``anomalies`` and ``forecast`` command groups (sub-command ``run`` each)."""
    _register_anomalies(subparsers)
    _register_forecast(subparsers)


def _register_anomalies(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("anomalies", help="spend anomalies per provider, service and billing account",
                                  description="Daily spend series scored against their own history (README "
                                              "\"Anomalies\").")
    commands = group.add_subparsers(dest="anomalies_command", metavar="COMMAND", required=True)
    run_cmd = commands.add_parser(
        "run", help="score every series and store the anomalies of the recent days",
        description="Score every daily spend series (total, provider, service, billing account; per billing "
                    "currency and in the reporting currency) with robust STL and store the anomalies of the last "
                    "anomalies.recent_days days in spend_anomalies (older ones are kept) and a row of anomaly_runs. "
                    "Prints the largest ones.")
    run_cmd.add_argument("--days", type=int, metavar="N",
                         help="flag the last N days (default: setting anomalies.recent_days)")
    run_cmd.add_argument("--top", type=int, default=10, metavar="N", help="anomalies printed (default 10)")
    run_cmd.set_defaults(func=anomalies_command)


def _register_forecast(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("forecast", help="month- and quarter-end spend forecasts and budgets",
                                  description="Spend forecasts per provider and in total (statsmodels ETS) with "
                                              "80 %% and 95 %% intervals, their backtest, and the budgets.")
    commands = group.add_subparsers(dest="forecast_command", metavar="COMMAND", required=True)
    run_cmd = commands.add_parser(
        "run", help="refit the forecasts, backtest them and check the [[budgets]]",
        description="Refit every total and provider forecast from the warehouse, store them with their daily paths "
                    "and the rolling-origin backtest, then evaluate the configured budgets and print the crossed "
                    "thresholds.")
    run_cmd.set_defaults(func=forecast_command)


def anomalies_command(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = AnomalySettings.from_config(ctx.config, recent_days=args.days)
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with ctx.warehouse.write("anomalies run") as session:
        stored = anomalies.run(session, ctx.config.get("reporting_currency"), settings)
    found = stored.detection.anomalies
    if len(found):
        print(format_table(["date", "series", "currency", "basis", "actual", "expected", "excess", "change",
                            "severity"],
                           [(row.date, anomalies.series_name(row), row.currency, row.basis, f"{row.actual:,.2f}",
                             f"{row.expected:,.2f}", f"{row.excess:+,.2f}", f"{row.excess_pct:+.1f} %",
                             row.severity) for row in anomalies.largest(found, args.top).itertuples()]))
    print("anomalies " + anomalies.summary(stored))
    return EXIT_OK


def forecast_command(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = forecast.ForecastSettings.from_config(ctx.config)
        configured = budgets.configured_budgets(ctx.config)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with ctx.warehouse.write("forecast run") as session:
        refit = forecast.refit(ctx.config, session, settings)
        checked = budgets.check(session, configured, settings)
        accuracy = session.con.execute("SELECT * FROM forecast_accuracy").df()
    print(_forecast_table(refit.totals, accuracy))
    for reason in refit.skipped:
        print(f"skipped: {reason}")
    for alert in checked.alerts:
        print(f"warning: {alert['message']}")
    for reason in checked.skipped:
        print(f"error: {reason}")
    print(f"forecast run: {refit.counts()}; {checked.counts()}")
    return EXIT_INCOMPLETE if checked.skipped else EXIT_OK


def _forecast_table(totals: pd.DataFrame, accuracy: pd.DataFrame) -> str:
    """One line per series and period: as of, actual to date, forecast total, 80 % and 95 % intervals, MAPE."""
    if totals.empty:
        return "no series to forecast"
    mape = {(r.level, r.basis, r.currency, r.provider): r.mape_pct for r in accuracy.itertuples()}
    rows = [(r.provider or "total", r.basis, r.currency, r.period, r.as_of, f"{r.actual_to_date:,.0f}",
             f"{r.forecast_total:,.0f}", f"{r.lower_80:,.0f} – {r.upper_80:,.0f}",
             f"{r.lower_95:,.0f} – {r.upper_95:,.0f}",
             f"{m:.1f} %" if pd.notna(m := mape.get((r.level, r.basis, r.currency, r.provider))) else "")
            for r in totals.itertuples()]
    return format_table(["series", "basis", "currency", "period", "as of", "actual", "forecast", "80 %", "95 %",
                         "backtest MAPE"], rows)
