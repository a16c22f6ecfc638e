"""``python -m etl run`` (everything configured, as one job; see ``etl/run.py``) and ``python -m etl cron`` (the
crontab line that runs it).

Exit status of ``run``: 0 when every step succeeded (or had nothing configured), 1 when some step failed, 2 for a
usage or settings error, 3 when another ETL run holds the writer lock (``run`` refuses at once, it never queues).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import sys
from pathlib import Path

from etl import pipelines
from etl import run as run_job
from etl.config import CONFIG_ENV, DEFAULT_CONFIG_FILE, SETTINGS
from etl.context import Context
from etl.loadlog import shorten, summary_table
from etl.report import format_table
from etl.warehouse import WarehouseLockedError

log = logging.getLogger(__name__)

EXIT_LOCKED = 3
DEFAULT_SCHEDULE = "15 6 * * *"
DEFAULT_LOG = Path("data/logs/etl-run.log")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")
_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help="run every configured step: billing sources, Google Cloud Billing API, prices, FX, events, "
                    "event studies, the lake export",
        description="Load the billing sources of config.toml ([[billing.sources]]), refresh the Cloud Billing API's "
                    "accounts and catalog (when gcp.billing_accounts is set), fetch prices and FX rates, "
                    "refresh the event catalog and compute the event studies, in one write session. Downloads "
                    "happen before the writer lock is taken. A failed step does not stop the others; what "
                    "succeeded is published. Exit 0 when every step succeeded, 1 when some failed, 2 for a "
                    "settings error, 3 when another ETL run holds the writer lock (no waiting).")
    run.set_defaults(func=run_command)
    cron = commands.add_parser(
        "cron", help="print a crontab line that runs `run` with this checkout, Python and configuration",
        description="Print a crontab line with absolute paths: this working directory, this Python "
                    "(the virtualenv's), the configuration file and a log file. Install it with `crontab -e`, "
                    "or `(crontab -l; python -m etl cron) | crontab -`.")
    cron.add_argument("--schedule", default=DEFAULT_SCHEDULE,
                      help=f"the five crontab time fields, or @daily etc. (default: {DEFAULT_SCHEDULE!r})")
    cron.add_argument("--log", type=Path, default=DEFAULT_LOG, metavar="FILE",
                      help=f"file the run's output is appended to (default: {DEFAULT_LOG}, from here)")
    cron.set_defaults(func=cron_command)


def run_command(args: argparse.Namespace, ctx: Context) -> int:
    try:
        report = run_job.run(ctx.config, ctx.warehouse)
    except pipelines.SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except WarehouseLockedError as exc:
        log.error("%s", exc)
        print(f"error: {exc}; nothing was done (exit {EXIT_LOCKED})")
        return EXIT_LOCKED
    _print_report(report, ctx.warehouse.path)
    return report.exit_code


def _print_report(report: run_job.RunReport, db: Path) -> None:
    """The end of a cron mail: the loads, the steps, warnings, errors and one line with the outcome."""
    if report.records:
        print(summary_table(report.records))
        print()
    print(format_table(["step", "status", "seconds", "what", "reason"],
                       [(s.name, s.status, f"{s.seconds:.1f}", s.counts, shorten(s.reason)) for s in report.steps]))
    for warning in report.warnings:
        print(f"warning: {warning}")
    for step in report.failed:
        print(f"error: step {step.name}: {step.reason}")
    for record in report.records:
        error = record.error or ""
        if not record.ok:
            print(f"error: {error if error.startswith(record.source) else f'{record.source}: {error}'}")
    if report.not_published:
        print(f"error: nothing was published, {db} is as it was: {report.not_published}")
    counts = {status: sum(s.status == status for s in report.steps) for status in ("ok", "failed", "skipped")}
    outcome = f"not published ({report.not_published})" if report.not_published else f"published {db}"
    print(f"run {'failed' if report.exit_code else 'succeeded'}: {counts['ok']} steps ok, {counts['failed']} failed"
          + (f" ({', '.join(s.name for s in report.failed)})" if report.failed else "")
          + f", {counts['skipped']} skipped; {outcome}; exit {report.exit_code}")


def cron_command(args: argparse.Namespace, ctx: Context) -> int:
    schedule = " ".join(args.schedule.split())
    fields = schedule.split(" ")
    if not (schedule in _CRON_MACROS or (len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields))):
        print(f"usage error: --schedule {args.schedule!r}: expected five crontab fields (e.g. '15 6 * * *') "
              f"or one of {', '.join(_CRON_MACROS)}", file=sys.stderr)
        return 2
    print(crontab_line(ctx, schedule, args.log, args.config))
    return 0


def crontab_line(ctx: Context, schedule: str, log_file: Path, config_arg: str | None) -> str:
    """The crontab line: cd to this working directory (relative settings resolve from it), this Python, the
    configuration file and the warehouse when they did not come from there, output appended to ``log_file``.
    Cron's environment has none of this shell's variables, so everything is on the line."""
    here = Path.cwd()
    command = [sys.executable, "-m", "etl"]
    config_file = Path(config_arg or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE).resolve()
    if config_file.exists():
        command += ["--config", str(config_file)]
    else:
        print(f"warning: no configuration file {config_file}; the run will use the defaults "
              "(no billing sources)", file=sys.stderr)
    if ctx.config.sources["db"] in ("command line", "SPENDSCOPE_DB"):
        command += ["--db", str(ctx.config.db_path.resolve())]
    from_env = [s.env_name for s in SETTINGS if ctx.config.sources[s.key] == s.env_name and s.key != "db"]
    if from_env:
        print(f"warning: cron does not see this shell's {', '.join(from_env)}; put those settings in "
              f"{config_file.name}", file=sys.stderr)
    log_path = (here / log_file).resolve()
    package_root = Path(__file__).resolve().parent.parent
    python_path = "" if package_root == here.resolve() else f"PYTHONPATH={shlex.quote(str(package_root))} "
    line = (f"cd {shlex.quote(str(here))} && mkdir -p {shlex.quote(str(log_path.parent))} && "
            f"{python_path}{shlex.join([*command, 'run'])} >> {shlex.quote(str(log_path))} 2>&1")
    return f"{schedule} {line.replace('%', chr(92) + '%')}"  # cron reads an unescaped % as a newline
