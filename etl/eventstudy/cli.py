"""``python -m etl eventstudy ...`` commands; :func:`register` adds them to the main parser."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import get_args

from etl.context import Context
from etl.eventstudy.engine import Model, ReturnKind
from etl.eventstudy.filemode import FileModeRequest, parse_date_range, run_file_mode, write_outputs
from etl.eventstudy.windows import LabelWindow, label_text

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_INPUT = 1


def _date_range(text: str) -> LabelWindow:
    try:
        return parse_date_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
