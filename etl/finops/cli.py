"""``python -m etl anomalies run``: score every daily spend series and store the anomalies (exit 0; 2 for a bad
setting). The same computation is the ``anomalies`` step of ``python -m etl run``."""

from __future__ import annotations

import argparse
import sys

from etl.context import Context
from etl.finops import anomalies
from etl.finops.anomalies import AnomalySettings
from etl.report import format_table

EXIT_OK, EXIT_USAGE = 0, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``anomalies`` command group (sub-command ``run``)."""
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
    run_cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace, ctx: Context) -> int:
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
