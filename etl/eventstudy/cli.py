"""``python -m etl eventstudy ...`` commands; :func:`register` adds them to the main parser.

``eventstudy file`` runs one study on CSV files; ``eventstudy run`` computes the stored events from table
``prices`` and stores the results (exit 0 when every event/ticker pair ran, was excluded by the engine or was
skipped for want of price history around day 0,
1 when some pair failed, e.g. for lack of prices; 2 for a usage or settings error).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pandas as pd

from etl import pipelines
from etl.context import Context
from etl.events.store import read_events
from etl.eventstudy.filemode import FileModeRequest, parse_date_range, run_file_mode, write_outputs
from etl.eventstudy.models import Model, ReturnKind
from etl.eventstudy.settings import OPTION_LIKE_NEGATIVE, StudySettings, parse_estimation, parse_windows
from etl.eventstudy.windows import label_text
from etl.report import format_table

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2


def _argument(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type`` from a parser that raises ValueError with the reason."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


_date_range = _argument(parse_date_range)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eventstudy`` command group (sub-command ``file``); ``func(args, ctx)`` returns the exit code."""
    group = subparsers.add_parser(
        "eventstudy",
        help="event-study engine: market reaction around events",
        description="Abnormal returns and their significance tests (docs/eventstudy.md).",
    )
    commands = group.add_subparsers(dest="eventstudy_command", metavar="COMMAND", required=True)
    file_cmd = commands.add_parser(
        "file",
        help="run one event study on R.csv/M.csv and write CSV results",
        description="Read wide firm returns (R.csv: date + one column per firm) and market returns "
        "(M.csv: date + one column), run the event study and write daily.csv, car.csv, "
        "firms.csv and exclusions.csv to --out.",
    )
    file_cmd.add_argument("--returns", type=Path, required=True, metavar="R.csv", help="wide firm returns")
    file_cmd.add_argument("--market", type=Path, required=True, metavar="M.csv", help="market returns")
    file_cmd.add_argument(
        "--returns-kind",
        choices=get_args(ReturnKind),
        required=True,
        help="how both files' returns are measured",
    )
    file_cmd.add_argument(
        "--estimation",
        type=_date_range,
        required=True,
        metavar="START:END",
        help="estimation window, YYYY-MM-DD:YYYY-MM-DD inclusive",
    )
    file_cmd.add_argument(
        "--event-window",
        type=_date_range,
        required=True,
        metavar="START:END",
        help="event window, YYYY-MM-DD:YYYY-MM-DD inclusive; day 0 is its first session",
    )
    file_cmd.add_argument("--model", choices=get_args(Model), default="market", help="normal-return model")
    file_cmd.add_argument(
        "--min-obs",
        type=int,
        default=60,
        metavar="N",
        help="minimum estimation observations per firm (default 60)",
    )
    file_cmd.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    file_cmd.set_defaults(func=run_file_command)
    _register_run(commands)


def _register_run(commands: argparse._SubParsersAction) -> None:
    run_cmd = commands.add_parser(
        "run",
        help="compute the stored events from table prices and store the results",
        description="Event studies of the events in the warehouse (all, or --event) on adjusted closes of table "
        "prices: each ticker against the benchmark of its listing calendar (setting eventstudy.benchmarks) or "
        "--benchmark, day 0 by that calendar. Stores event_study_daily, event_study_results, event_study_cross, "
        "event_study_cross_daily, event_study_exclusions, event_study_overlaps and a row of event_study_runs, "
        "and prints a summary. Exit 0 when every event/ticker pair ran, was excluded or was skipped (day 0 "
        "outside the price history), 1 when some pair "
        "failed (e.g. no prices). Defaults come from the eventstudy.* settings.",
    )
    # values such as -250:-11 or -1:1,0:0 start with '-': read them as values, not as options
    run_cmd._negative_number_matcher = OPTION_LIKE_NEGATIVE
    run_cmd.add_argument("--event", action="append", metavar="ID", help="event id (repeatable; default: every event)")
    run_cmd.add_argument("--tickers", nargs="+", metavar="TICKER",
                         help="study these tickers for every event instead of each event's own tickers")
    run_cmd.add_argument("--benchmark", metavar="TICKER",
                         help="benchmark of every ticker (default: setting eventstudy.benchmarks by calendar)")
    run_cmd.add_argument("--model", choices=get_args(Model), help="normal-return model (setting eventstudy.model)")
    run_cmd.add_argument("--estimation", type=_argument(parse_estimation), metavar="START:END",
                         help="estimation window: offsets such as -250:-11, or dates YYYY-MM-DD:YYYY-MM-DD")
    run_cmd.add_argument("--windows", type=_argument(parse_windows), metavar="A:B,...",
                         help="event windows as offsets, e.g. 0:0,-1:1,0:1,-5:5")
    run_cmd.add_argument("--returns", choices=get_args(ReturnKind), help="simple (default) or log returns")
    run_cmd.add_argument("--min-obs", type=int, metavar="N", help="minimum estimation sessions per ticker")
    run_cmd.set_defaults(func=run_study_command)


def run_file_command(args: argparse.Namespace, ctx: Context) -> int:
    """Run ``eventstudy file``; bad input is logged with its location and gives exit code 1."""
    request = FileModeRequest(
        returns_path=args.returns,
        market_path=args.market,
        returns_kind=args.returns_kind,
        estimation=args.estimation,
        event_window=args.event_window,
        out_dir=args.out,
        model=args.model,
        min_obs=args.min_obs,
    )
    try:
        result = run_file_mode(request)
    except ValueError as exc:  # FileModeError, or a configuration the engine rejects
        log.error("eventstudy file: %s", exc)
        return EXIT_BAD_INPUT
    write_outputs(result, request.out_dir)
    window = result.windows.iloc[0]
    print(
        f"eventstudy: {len(result.firms)} firms ({len(result.exclusions)} excluded), "
        f"{label_text(window['window_start'])}..{label_text(window['window_end'])}: "
        f"CAAR {window['caar']:.4%} (car_t_test p = {window['car_t_test_p']:.3g}) -> {request.out_dir}"
    )
    return EXIT_OK


def run_study_command(args: argparse.Namespace, ctx: Context) -> int:
    """Run ``eventstudy run``: compute, store one run, print the summary; see the module docstring."""
    tickers = tuple(dict.fromkeys(t.strip().upper() for text in args.tickers or [] for t in text.split(",")
                                  if t.strip()))
    try:
        settings = StudySettings.from_config(
            ctx.config, model=args.model, returns_kind=args.returns, estimation=args.estimation,
            windows=args.windows, min_obs=args.min_obs, tickers=tickers or None,
            benchmark=args.benchmark.strip().upper() if args.benchmark else None)
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with ctx.warehouse.write("eventstudy run") as session:
        pipelines.refresh_events(ctx.config, session)
        known = set(read_events(session.con)["event_id"])
        unknown = sorted(set(args.event or []) - known)
        if unknown:
            print(f"error: no event {', '.join(unknown)} in the warehouse (see `python -m etl events list`)",
                  file=sys.stderr)
            return EXIT_USAGE
        run = pipelines.run_event_studies(ctx.config, session, settings, args.event)
    events, tables, run_id = run.events, run.tables, run.run_id
    for note in tables.notes.itertuples():
        log.info("%s (%s): %s", note.event_id, note.benchmark, note.note)
    status = tables.pairs
    print(_summary(status, tables.results, settings))
    failed = status[status["status"] == "failed"]
    for row in failed.itertuples():
        log.error("%s / %s: %s", row.event_id, row.ticker, row.reason)
        print(f"error: {row.event_id} / {row.ticker}: {row.reason}")
    counts = status["status"].value_counts()
    for row in status[status["status"] == "skipped"].itertuples():
        log.warning("%s / %s skipped: %s", row.event_id, row.ticker, row.reason)
    print(f"eventstudy run {run_id}: {len(events)} events, {len(status)} event/ticker pairs: "
          f"{counts.get('computed', 0)} computed, {counts.get('excluded', 0)} excluded, "
          f"{counts.get('skipped', 0)} skipped, {len(failed)} failed "
          f"({settings.model} model, {settings.returns_kind} returns)")
    return EXIT_BAD_INPUT if len(failed) else EXIT_OK


def _summary(status: pd.DataFrame, results: pd.DataFrame, settings: StudySettings) -> str:
    """One line per event and ticker: benchmark, day 0, status, CAR of each window with stars, reason."""
    labels = [str(w) for w in settings.windows]
    car = {(r.event_id, r.ticker, r.window): f"{r.car:+.2%}{r.stars}" for r in results.itertuples()
           if pd.notna(r.car)}
    rows = [(row.event_id, row.ticker, row.benchmark or "", row.day0 if pd.notna(row.day0) else "", row.status,
             *(car.get((row.event_id, row.ticker, label), "") for label in labels), _shorten(row.reason))
            for row in status.itertuples()]
    return format_table(["event", "ticker", "benchmark", "day 0", "status", *(f"CAR{w}" for w in labels),
                         "detail"], rows)


def _shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
