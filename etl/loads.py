"""``python -m etl loads``: the failed loads and their lifecycle.

A failed load stays open (view ``load_failures``) until a later successful load of the same source (or, for billing,
of the same accounts and dataset) resolves it, or until a user dismisses it here: ``loads dismiss LOAD_ID`` records
who (``--by``, default the OS user) and when in table ``load_dismissals``, in one write transaction. ``status`` then
no longer exits 1 for it, and the Data health page shows it as dismissed.
"""

from __future__ import annotations

import argparse
import getpass
import logging
from datetime import UTC, datetime

import duckdb

from etl import status
from etl.context import Context
from etl.loadlog import naive_utc
from etl.report import format_table
from etl.warehouse import WarehouseMissingError, connect_readonly

log = logging.getLogger(__name__)


class DismissError(ValueError):
    """The load cannot be dismissed (unknown, not failed, or no longer open); the message says why."""


def register(commands: argparse._SubParsersAction) -> None:
    loads = commands.add_parser("loads", help="list failed loads and dismiss one",
                                description="Failed loads stay open (and `status` exits 1) until a later load of "
                                            "the same source succeeds or a user dismisses them.")
    actions = loads.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the open failed loads (--all: every failed load and its state)")
    listing.add_argument("--all", action="store_true", help="also resolved and dismissed failures")
    listing.set_defaults(func=run_list)
    dismiss = actions.add_parser("dismiss", help="dismiss an open failed load, recording who and when")
    dismiss.add_argument("load_id", type=int, metavar="LOAD_ID", help="the load_id `status` or `loads list` shows")
    dismiss.add_argument("--by", default=None, help="who dismisses it (default: the OS user)")
    dismiss.add_argument("--reason", help="why, kept with the dismissal")
    dismiss.set_defaults(func=run_dismiss)


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    try:
        con = connect_readonly(ctx.config.db_path)
    except WarehouseMissingError as exc:
        print(str(exc))
        return 1
    try:
        found = status.failures(con) if args.all else status.failures(con).filter("state = 'open'")
        rows = found.project("load_id, kind, source, failed_at, state, coalesce(dismissed_by || ': ' || "
                             "coalesce(dismiss_reason, ''), 'load ' || resolved_by, error)").fetchall()
    finally:
        con.close()
    if not rows:
        print("no failed loads" if args.all else "no open failed loads")
        return 0
    print(format_table(["id", "kind", "source", "failed (UTC)", "state", "detail"],
                       [(i, k, s, f"{t:%Y-%m-%d %H:%M}", state, status.shorten(detail or ""))
                        for i, k, s, t, state, detail in rows]))
    return 0


def run_dismiss(args: argparse.Namespace, ctx: Context) -> int:
    who = args.by or getpass.getuser()
    try:
        with ctx.warehouse.write(f"dismiss load {args.load_id}") as session, session.transaction() as con:
            dismiss(con, args.load_id, who, args.reason, datetime.now(UTC))
    except DismissError as exc:
        log.error("%s", exc)
        print(f"error: {exc}")
        return 1
    print(f"dismissed failed load {args.load_id} (by {who})")
    return 0


def dismiss(con: duckdb.DuckDBPyConnection, load_id: int, who: str, reason: str | None, at: datetime) -> None:
    """Record the dismissal of the open failed load ``load_id`` inside the caller's transaction; raises
    :class:`DismissError` for an unknown load, one that did not fail, or a failure no longer open."""
    row = con.execute("SELECT l.status, f.state, f.resolved_by, f.dismissed_by FROM load_log l "
                      "LEFT JOIN load_failures f USING (load_id) WHERE l.load_id = ?", [load_id]).fetchall()
    if not row:
        raise DismissError(f"no load {load_id} in load_log")
    load_status, state, resolved_by, dismissed_by = row[0]
    if load_status != "failed":
        raise DismissError(f"load {load_id} did not fail (status {load_status}); only failed loads are dismissed")
    if state == "dismissed":
        raise DismissError(f"load {load_id} was already dismissed by {dismissed_by}")
    if state == "resolved":
        raise DismissError(f"load {load_id} is no longer open: load {resolved_by} of the same source succeeded")
    con.execute("INSERT INTO load_dismissals VALUES (?, ?, ?, ?)", [load_id, who, naive_utc(at), reason])
    log.info("dismissed failed load %d by %s%s", load_id, who, f" ({reason})" if reason else "")
