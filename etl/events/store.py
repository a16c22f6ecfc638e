"""Tables ``events`` and ``event_day0``: what the validation checks against, writing events, reading them back.

Every write runs inside the caller's write session; callers write a batch of events with its day-0 rows (one per
event and ticker, on the ticker's listing calendar) in one ``WriteSession.transaction()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import duckdb
import pandas as pd

from etl.config import Config
from etl.events.day0 import Day0, decide_day0
from etl.events.validate import Event, Known, StoredEvent
from etl.market.calendars import listing
from etl.market.tickers import provider_tickers

EVENT_COLUMNS = ["event_id", "announced_at", "time_precision", "market_time", "headline", "companies", "tickers",
                 "providers", "source_urls", "notes", "reported_moves", "origin", "added_at", "time_zone"]
DAY0_COLUMNS = ["event_id", "ticker", "calendar", "day0", "rule"]


def known_names(con: duckdb.DuckDBPyConnection, config: Config) -> Known:
    """Tickers of the listing table or with prices; provider names from the seeds, settings and billing data."""
    tickers = {row[0] for row in con.execute(
        "SELECT upper(ticker) FROM market_listing UNION SELECT ticker FROM prices").fetchall()}
    aliases = {alias.lower(): name for alias, name in con.execute(
        "SELECT alias, service_provider_name FROM provider_alias").fetchall()}
    aliases |= {alias.lower(): name for alias, name in config.get("providers.aliases").items()}
    billed = {row[0] for row in con.execute("SELECT DISTINCT ServiceProviderName FROM cost_line").fetchall()}
    providers = set(aliases.values()) | set(provider_tickers(config)) | billed
    return Known(tickers=tickers, providers=providers, provider_aliases=aliases)


def stored_events(con: duckdb.DuckDBPyConnection) -> dict[str, StoredEvent]:
    """Every event in the warehouse by id, as :class:`Event` (for duplicate and change checks)."""
    rows = con.execute(
        """SELECT event_id, announced_at, time_precision, market_time, headline, tickers, companies, providers,
                  source_urls, notes, map_keys(reported_moves), map_values(reported_moves), time_zone, origin
           FROM events""").fetchall()
    found = {}
    for (event_id, announced_at, precision, market_time, headline, tickers, companies, providers, urls, notes,
         move_keys, move_values, zone, origin) in rows:
        moves = tuple(zip(move_keys or [], move_values or [], strict=True))
        event = Event(event_id, announced_at, precision, market_time, headline, tuple(tickers),
                      tuple(companies or ()), tuple(providers), tuple(urls), notes, moves, zone)
        found[event_id] = StoredEvent(event, origin)
    return found


def day0_rows(events: Iterable[Event]) -> list[tuple[str, str, str, object, str]]:
    """``event_day0`` rows of each event for its own tickers, on their listing calendars."""
    rows = []
    for event in events:
        for ticker in event.tickers:
            found: Day0 = decide_day0(event.announced_at, event.time_precision, event.market_time,
                                      listing(ticker).calendar)
            rows.append((event.event_id, ticker, found.calendar, found.day0, found.rule))
    return rows


def write_events(con: duckdb.DuckDBPyConnection, events: Sequence[Event], origin: str,
                 added_at: Mapping[str, datetime] | None = None) -> None:
    """Insert (or replace) ``events`` and their day-0 rows; call it inside a ``WriteSession.transaction()``.

    ``added_at`` keeps the first-added time of events that are rewritten; new ones get now (UTC).
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    added_at = added_at or {}
    day0 = day0_rows(events)
    delete_events(con, [e.event_id for e in events])
    if events:
        con.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, MAP(?::VARCHAR[], ?::DOUBLE[]), ?, ?, ?)",
            [[e.event_id, e.announced_at, e.time_precision, e.market_time, e.headline, list(e.companies),
              list(e.tickers), list(e.providers), list(e.source_urls), e.notes,
              [k for k, _ in e.reported_moves], [v for _, v in e.reported_moves], origin,
              added_at.get(e.event_id, now), e.time_zone] for e in events])
    if day0:
        con.executemany("INSERT INTO event_day0 VALUES (?, ?, ?, ?, ?)", day0)


def delete_events(con: duckdb.DuckDBPyConnection, event_ids: Sequence[str]) -> None:
    """Remove events and their day-0 rows (results of past runs stay until recomputed)."""
    con.execute("DELETE FROM event_day0 WHERE event_id IN (SELECT unnest(?))", [list(event_ids)])
    con.execute("DELETE FROM events WHERE event_id IN (SELECT unnest(?))", [list(event_ids)])


def read_events(con: duckdb.DuckDBPyConnection, event_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Table ``events`` (all, or ``event_ids`` in that order) as a frame; list columns hold Python lists.

    This is the ``events`` argument of :func:`etl.eventstudy.warehouse.compute_event_studies`.
    """
    frame = con.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "
        "WHERE ? IS NULL OR event_id IN (SELECT unnest(?)) ORDER BY announced_at, event_id",
        [event_ids, list(event_ids or [])]).df()
    for column in ("companies", "tickers", "providers", "source_urls"):
        frame[column] = [list(v) if v is not None else [] for v in frame[column]]
    if event_ids is not None:
        order = {event_id: i for i, event_id in enumerate(event_ids)}
        frame = frame.sort_values("event_id", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return frame
