"""The shipped catalog of dated cloud and AI-infrastructure announcements (``etl/events/catalog.csv``).

It is loaded into ``events`` with origin ``catalog`` by ``python -m etl init``, every ``events`` command and
``eventstudy run``. Loading is idempotent: a catalog whose bytes were loaded before is not loaded again
(``load_log`` keeps one ``kind = 'events'`` row per catalog version), catalog events are replaced as a whole
(keeping when each was first added), events dropped from the catalog are removed, and a user event that has
the id of a catalog event is never overwritten: that catalog event is skipped with a warning.

How each entry was checked (sources, timing, prices) is written in its ``notes``; README "Events and event
studies" summarises it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import duckdb

from etl import loadlog
from etl.config import Config
from etl.events.files import read_event_csv
from etl.events.store import delete_events, known_names, stored_events, write_events
from etl.events.validate import EventError
from etl.loadlog import LoadRecord
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

CATALOG_FILE = Path(__file__).with_name("catalog.csv")
CATALOG_SOURCE = "etl/events/catalog.csv"


class CatalogError(RuntimeError):
    """The shipped catalog does not validate: a bug in the release, never the user's input."""


def catalog_digest() -> str:
    """SHA-256 of the shipped catalog file."""
    return hashlib.sha256(CATALOG_FILE.read_bytes()).hexdigest()


def catalog_is_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse's last catalog load was of this release's catalog file."""
    loaded = con.execute(
        "SELECT sha256 FROM load_log WHERE kind = 'events' AND source = ? AND status = 'loaded' "
        "ORDER BY load_id DESC LIMIT 1", [CATALOG_SOURCE]).fetchall()
    return bool(loaded) and loaded[0][0] == catalog_digest()


def refresh_catalog(session: WriteSession, config: Config) -> LoadRecord | None:
    """Bring the catalog events in the warehouse up to date; the load's record when something changed, else None."""
    con = session.con
    if catalog_is_loaded(con):
        return None
    try:
        batch = read_event_csv(CATALOG_FILE, known_names(con, config), CATALOG_SOURCE)
    except EventError as exc:
        raise CatalogError("the shipped event catalog is invalid:\n  " + "\n  ".join(exc.messages)) from None
    stored = stored_events(con)
    skipped = [e.event_id for e, _ in batch if e.event_id in stored and stored[e.event_id].origin == "user"]
    for event_id in skipped:
        log.warning("catalog event %s skipped: a user event has that id", event_id)
    events = [e for e, _ in batch if e.event_id not in skipped]
    current = {e.event_id for e in events}
    gone = [i for i, s in stored.items() if s.origin == "catalog" and i not in current]
    added_at = dict(con.execute("SELECT event_id, added_at FROM events WHERE origin = 'catalog'").fetchall())
    message = (f"{len(events)} catalog events"
               + (f", {len(gone)} removed" if gone else "")
               + (f", {len(skipped)} skipped (their ids belong to user events: {', '.join(skipped)})"
                  if skipped else ""))
    record = LoadRecord("events", CATALOG_SOURCE, "loaded", "events-csv", rows=len(events),
                        files=[str(CATALOG_FILE)], sha256=catalog_digest(), message=message)
    with session.transaction():
        delete_events(con, gone)
        write_events(con, events, "catalog", added_at)
        loadlog.write(con, record)
    log.info("event catalog loaded: %s", message)
    return record
