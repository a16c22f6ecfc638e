"""``python -m etl forecast run``: refit the month- and quarter-end forecasts and check the budgets, as the steps
``forecasts`` and ``budgets`` of ``python -m etl run`` do, and print them.

Exit 0 when every budget was evaluated, 1 when some could not be (no forecast of its parent series), 2 for a
settings error. A crossed threshold is printed, not an error: ``status --json`` lists it for monitoring.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from etl import pipelines
from etl.context import Context
from etl.finops import budgets, forecast
from etl.report import format_table


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("forecast", help="month- and quarter-end spend forecasts and budgets",
                                description="Spend forecasts per provider and in total (statsmodels ETS) with "
                                            "80 %% and 95 %% intervals, their backtest, and the budgets.")
    sub = group.add_subparsers(dest="forecast_command", metavar="COMMAND", required=True)
    run = sub.add_parser("run", help="refit the forecasts, backtest them and check the [[budgets]]",
                         description="Refit every total and provider forecast from the warehouse, store them with "
                                     "their daily paths and the rolling-origin backtest, then evaluate the "
                                     "configured budgets and print the crossed thresholds.")
    run.set_defaults(func=run_command)


def run_command(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = forecast.ForecastSettings.from_config(ctx.config)
        configured = budgets.configured_budgets(ctx.config)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
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
    return 1 if checked.skipped else 0


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
