"""``python -m etl events import|add|list``: the user's own events next to the shipped catalog.

Every command first brings the catalog up to date (:func:`etl.events.catalog.refresh_catalog`). Bad input
(unknown tickers, impossible dates, duplicates, bad market times or URLs) is reported with its file, line
and column (or its option) and nothing of that file or event is stored. Exit status: 0 when everything
asked for was stored or was already there, 1 when some file or event was refused, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

from etl import loadlog, pipelines
from etl.context import Context
from etl.events.catalog import catalog_is_loaded
from etl.events.files import read_event_csv
from etl.events.store import known_names, read_events, stored_events, write_events
from etl.events.validate import COLUMNS, MARKET_TIMES, Event, EventError, parse_event, plan_user_events
from etl.loadlog import LoadRecord
from etl.report import format_table
from etl.warehouse import (
    WarehouseMissingError,
    WriteSession,
    connect_readonly,
    latest_schema_version,
    schema_version,
)

log = logging.getLogger(__name__)

ADD_OPTIONS = {"event_id": "--id", "date": "--date", "time": "--time", "time_zone": "--tz",
               "market_time": "--market-time", "headline": "--headline", "companies": "--companies",
               "tickers": "--tickers", "providers": "--providers", "source_urls": "--source", "notes": "--notes",
               "reported_moves": "--reported-move"}


def register(commands: argparse._SubParsersAction) -> None:
    events_cmd = commands.add_parser(
        "events", help="the event catalog and your own events (import, add, list)",
        description="Dated announcements in table `events`: the shipped catalog and your own events. See README "
                    "'Events and event studies' for the CSV columns and the day-0 rule.")
    sub = events_cmd.add_subparsers(dest="events_command", metavar="SUBCOMMAND", required=True)

    imp = sub.add_parser(
        "import", help="import your events from CSV files",
        description=f"Import events from CSV files with the columns {', '.join(COLUMNS)} (date, market_time, "
                    "headline and tickers required). A file with any problem is refused as a whole, with every "
                    "problem's line and column. Exit 1 when any file was refused.")
    imp.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="event CSV files")
    imp.add_argument("--replace", action="store_true", help="overwrite your events that have the same id")
    imp.set_defaults(func=run_import)

    add = sub.add_parser(
        "add", help="add one event",
        description="Add one event. Without --time it has date precision and needs --market-time; with --time "
                    "(in --tz, default America/New_York) it has minute precision and the market time is derived.")
    add.add_argument("--date", required=True, help="announcement date, YYYY-MM-DD")
    add.add_argument("--time", help="announcement time, HH:MM (24-hour) in --tz")
    add.add_argument("--tz", metavar="ZONE", help="IANA time zone of --time (default America/New_York)")
    add.add_argument("--market-time", choices=MARKET_TIMES,
                     help="relative to the New York session; required without --time")
    add.add_argument("--headline", required=True)
    add.add_argument("--tickers", required=True, nargs="+", metavar="TICKER", help="affected tickers")
    add.add_argument("--providers", nargs="+", metavar="NAME", help="related providers (ServiceProviderName)")
    add.add_argument("--companies", nargs="+", metavar="NAME", help="companies involved")
    add.add_argument("--source", action="append", metavar="URL", help="source URL (repeatable)")
    add.add_argument("--notes", help="what is known about the timing, doubts")
    add.add_argument("--reported-move", action="append", metavar="TICKER=MOVE",
                     help="the media's headline move, e.g. GOOGL=+2.1%% (repeatable)")
    add.add_argument("--id", help="event id, a slug (default: date and headline)")
    add.add_argument("--replace", action="store_true", help="overwrite your event with the same id")
    add.set_defaults(func=run_add)

    lst = sub.add_parser("list", help="list the events", description="List the catalog's and your events.")
    lst.add_argument("--ticker", help="only events of this ticker")
    lst.add_argument("--origin", choices=["catalog", "user"], help="only catalog or only your events")
    lst.set_defaults(func=run_list)


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    rows, refused = [], 0
    with ctx.warehouse.write("events import") as session:
        con = session.con
        pipelines.refresh_events(ctx.config, session)
        known = known_names(con, ctx.config)
        for path in args.paths:
            try:
                batch = read_event_csv(path, known)
                plan = plan_user_events(batch, stored_events(con), args.replace)
            except EventError as exc:
                refused += 1
                log.error("%s refused: %d problem(s)", path, len(exc.messages))
                rows.append((path, "", "", "", "refused"))
                for message in exc.messages:
                    print(f"error: {message}")
                continue
            _store(session, plan.write, path, hashlib.sha256(path.read_bytes()).hexdigest())
            rows.append((path, len(plan.write) - len(plan.replaced), len(plan.replaced), len(plan.unchanged),
                         "loaded" if plan.write else "unchanged"))
    print(format_table(["file", "added", "replaced", "unchanged", "status"], rows))
    return 1 if refused else 0


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    def joined(values: list[str] | None, separator: str = ";") -> str:
        return separator.join(values or [])

    raw = {"event_id": args.id or "", "date": args.date, "time": args.time or "", "time_zone": args.tz or "",
           "market_time": args.market_time or "", "headline": args.headline, "companies": joined(args.companies),
           "tickers": joined(args.tickers), "providers": joined(args.providers),
           "source_urls": joined(args.source, " | "), "notes": args.notes or "",
           "reported_moves": joined(args.reported_move)}

    def where(column: str) -> str:
        return ADD_OPTIONS[column]

    with ctx.warehouse.write("events add") as session:
        con = session.con
        pipelines.refresh_events(ctx.config, session)
        try:
            event = parse_event(raw, known_names(con, ctx.config), where)
            plan = plan_user_events([(event, where)], stored_events(con), args.replace)
        except EventError as exc:
            for message in exc.messages:
                log.error("%s", message)
                print(f"error: {message}")
            return 1
        _store(session, plan.write, None, None)
        day0 = con.execute("SELECT ticker, day0, calendar FROM event_day0 WHERE event_id = ? ORDER BY ticker",
                           [event.event_id]).fetchall()
    verb = "replaced" if plan.replaced else "added" if plan.write else "unchanged:"
    print(f"{verb} event {event.event_id} ({_announced_text(event.announced_at, event.time_precision)}, "
          f"{event.market_time}); day 0: "
          + ", ".join(f"{ticker} {d} ({mic})" for ticker, d, mic in day0))
    return 0


def _store(session: WriteSession, events: list[Event], path: Path | None, sha: str | None) -> None:
    """Write user events (keeping when replaced ones were first added) and, for a file, its load_log row."""
    if not events and path is None:
        return
    with session.transaction() as con:
        added_at = dict(con.execute("SELECT event_id, added_at FROM events WHERE event_id IN (SELECT unnest(?))",
                                    [[e.event_id for e in events]]).fetchall())
        write_events(con, events, "user", added_at)
        if path is not None:
            loadlog.write(con, LoadRecord("events", str(path), "loaded" if events else "unchanged", "events-csv",
                                          rows=len(events), files=[str(path.resolve())], sha256=sha,
                                          message=f"{len(events)} event(s) written"))


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    if not _catalog_current(ctx):
        with ctx.warehouse.write("events list") as session:
            pipelines.refresh_events(ctx.config, session)
    con = connect_readonly(ctx.config.db_path)
    try:
        events = read_events(con)
    finally:
        con.close()
    if args.origin:
        events = events[events["origin"] == args.origin]
    if args.ticker:
        events = events[[args.ticker.strip().upper() in t for t in events["tickers"]]]
    rows = [(e.event_id, _announced_text(e.announced_at, e.time_precision), e.market_time, " ".join(e.tickers),
             e.origin, e.headline if len(e.headline) <= 70 else e.headline[:67] + "...")
            for e in events.itertuples()]
    print(format_table(["event", "announced", "market time", "tickers", "origin", "headline"], rows))
    print(f"{len(rows)} event(s)")
    return 0


def _catalog_current(ctx: Context) -> bool:
    """Whether the published warehouse already holds this release's catalog (then `list` needs no write)."""
    try:
        con = connect_readonly(ctx.config.db_path)
    except WarehouseMissingError:
        return False
    try:
        return schema_version(con) == latest_schema_version() and catalog_is_loaded(con)
    finally:
        con.close()


def _announced_text(moment: object, precision: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if precision == "minute" else f"{moment:%Y-%m-%d}"
