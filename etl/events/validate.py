"""Events as the user writes them (CSV rows, ``events add`` options) checked and turned into :class:`Event`.

One parser serves the shipped catalog, ``events import`` and ``events add``: every field arrives as text
under its column name (:data:`COLUMNS`), and every problem becomes one message that says where it is,
through a ``where(column)`` function (``file.csv: line 4, column "tickers"`` or ``--tickers``).

Field formats (also README "Events and event studies"):

- ``event_id``: a readable slug (lower-case letters, digits, hyphens); empty = made from date and headline;
- ``date``: ``YYYY-MM-DD``, a real date from 1990 on and not in the future;
- ``time`` (optional): ``HH:MM`` (24 h) in ``time_zone`` (default ``America/New_York``); with a time the
  event has minute precision, without one date precision;
- ``market_time``: ``pre``, ``intraday``, ``post`` or ``unknown``, relative to the New York session; required
  without a time, derived from the time when empty, and refused when it contradicts the time;
- ``headline`` (required), ``notes``;
- ``companies``, ``tickers`` (required), ``providers``: lists separated by ``;`` (``,`` also works);
- ``source_urls``: http(s) URLs separated by ``|`` or whitespace;
- ``reported_moves``: ``TICKER=+2.1%;TICKER=-0.006`` (percent, or a fraction), for tickers of the event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from etl.events.day0 import EARLIEST_DATE, new_york_market_time

COLUMNS = ("event_id", "date", "time", "time_zone", "market_time", "headline", "companies", "tickers",
           "providers", "source_urls", "notes", "reported_moves")
REQUIRED_COLUMNS = ("date", "market_time", "headline", "tickers")
MARKET_TIMES = ("pre", "intraday", "post", "unknown")
DEFAULT_TIME_ZONE = "America/New_York"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,79}$")
_LIST_SPLIT = re.compile(r"[;,]")
_URL_SPLIT = re.compile(r"[|\s]+")
_MOVE = re.compile(r"^\s*([^=\s]+)\s*=\s*([+-]?\d+(?:\.\d+)?)\s*(%?)\s*$")

Where = Callable[[str], str]


@dataclass(frozen=True)
class Event:
    """A validated event, ready to store in table ``events`` (timestamps naive UTC)."""

    event_id: str
    announced_at: datetime  # the instant ('minute') or midnight of the date ('date')
    time_precision: str  # 'minute' | 'date'
    market_time: str
    headline: str
    tickers: tuple[str, ...]
    companies: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    source_urls: tuple[str, ...] = ()
    notes: str | None = None
    reported_moves: tuple[tuple[str, float], ...] = ()
    time_zone: str | None = None

    @property
    def local_date(self) -> date:
        """The announcement's date where it was made (the date as given)."""
        if self.time_zone is None:
            return self.announced_at.date()
        return self.announced_at.replace(tzinfo=UTC).astimezone(ZoneInfo(self.time_zone)).date()

    @property
    def duplicate_key(self) -> tuple[date, str]:
        """Two events with the same date and headline (case and spacing ignored) are duplicates."""
        return self.local_date, " ".join(self.headline.lower().split())


@dataclass(frozen=True)
class Known:
    """What validation checks names against: tickers (listing table or prices) and provider names."""

    tickers: Collection[str]
    providers: Collection[str]
    provider_aliases: Mapping[str, str] = field(default_factory=dict)  # lower-case alias -> name
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class EventError(ValueError):
    """Problems of one event, each message located (file, line and column, or the option)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def slugify(text: str, limit: int = 48) -> str:
    """Lower-case words joined by hyphens, at most ``limit`` characters, cut at a word boundary."""
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "event"


def split_list(text: str) -> tuple[str, ...]:
    """``a; b, c`` -> ('a', 'b', 'c'); blanks dropped, order and first occurrence kept."""
    return tuple(dict.fromkeys(p.strip() for p in _LIST_SPLIT.split(text) if p.strip()))


def parse_event(raw: Mapping[str, str], known: Known, where: Where) -> Event:
    """Check one event's fields; raise :class:`EventError` with every problem found."""
    problems: list[str] = []

    def fail(column: str, message: str) -> None:
        problems.append(f"{where(column)}: {message}")

    text = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    day = _parse_date(text["date"], known.now, lambda m: fail("date", m))
    instant, zone = _parse_time(text, day, known.now, fail)
    market_time = _market_time(text["market_time"], bool(text["time"]), instant, fail)
    headline = " ".join(text["headline"].split())
    if not headline:
        fail("headline", "a headline is required")
    tickers = tuple(t.upper() for t in split_list(text["tickers"]))
    if not tickers:
        fail("tickers", "at least one ticker is required")
    for ticker in tickers:
        if ticker not in known.tickers:
            fail("tickers", f'unknown ticker "{ticker}": not in sql/seed/market_listing.csv and no prices in the '
                            "warehouse (import or fetch its prices first)")
    providers = tuple(_provider(p, known, lambda m: fail("providers", m)) for p in split_list(text["providers"]))
    urls = tuple(dict.fromkeys(u for u in _URL_SPLIT.split(text["source_urls"]) if u))
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or "." not in parts.netloc:
            fail("source_urls", f'"{url}" is not an http(s) URL')
    moves = _parse_moves(text["reported_moves"], tickers, lambda m: fail("reported_moves", m))
    event_id = text["event_id"]
    if event_id and not _SLUG.match(event_id):
        fail("event_id", f'"{event_id}" is not a readable id: use 3-80 lower-case letters, digits and hyphens')
    if problems:
        raise EventError(problems)
    assert day is not None and market_time is not None
    return Event(
        event_id=event_id or f"{day.isoformat()}-{slugify(headline)}",
        announced_at=instant.tz_convert("UTC").tz_localize(None).to_pydatetime() if instant is not None
        else datetime.combine(day, datetime.min.time()),
        time_precision="minute" if instant is not None else "date",
        market_time=market_time,
        headline=headline,
        tickers=tickers,
        companies=split_list(text["companies"]),
        providers=providers,
        source_urls=urls,
        notes=" ".join(text["notes"].split()) or None,
        reported_moves=moves,
        time_zone=zone,
    )


def _parse_date(text: str, now: datetime, fail: Callable[[str], None]) -> date | None:
    if not text:
        fail("a date is required (YYYY-MM-DD)")
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        fail(f'"{text}" is not a date (expected YYYY-MM-DD, e.g. 2025-06-10)')
        return None
    if day < EARLIEST_DATE:
        fail(f"{text} is before {EARLIEST_DATE.isoformat()}, the earliest date the calendars cover")
        return None
    if day > now.date():
        fail(f"{text} is in the future")
        return None
    return day


def _parse_time(text: Mapping[str, str], day: date | None, now: datetime,
                fail: Callable[[str, str], None]) -> tuple[pd.Timestamp | None, str | None]:
    """The UTC instant of a timed event and its zone; (None, None) for a date-only event."""
    if not text["time"]:
        if text["time_zone"]:
            fail("time_zone", "a time zone needs a time (HH:MM)")
        return None, None
    zone_name = text["time_zone"] or DEFAULT_TIME_ZONE
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        fail("time_zone", f'unknown time zone "{zone_name}" (an IANA name such as America/New_York or UTC)')
        return None, None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text["time"])
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        fail("time", f'"{text["time"]}" is not a time (expected HH:MM, 24-hour)')
        return None, None
    if day is None:
        return None, None
    local = datetime(day.year, day.month, day.day, int(match.group(1)), int(match.group(2)), tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        fail("time", f"{day} {text['time']} does not exist in {zone_name} (the clocks skip it)")
        return None, None
    instant = pd.Timestamp(local).tz_convert("UTC")
    if instant > pd.Timestamp(now):
        fail("time", f"{day} {text['time']} {zone_name} is in the future")
        return None, None
    return instant, zone_name


def _market_time(text: str, timed: bool, instant: pd.Timestamp | None,
                 fail: Callable[[str, str], None]) -> str | None:
    """The given market time, checked against the time when there is one, or derived from it."""
    value = text.lower()
    if value and value not in MARKET_TIMES:
        fail("market_time", f'"{text}" is not one of {", ".join(MARKET_TIMES)}')
        return None
    if instant is None:
        if not value and not timed:
            fail("market_time", f"required for an event without a time: one of {', '.join(MARKET_TIMES)}")
        return value or None
    derived = new_york_market_time(instant)
    if value and value != "unknown" and derived != "unknown" and value != derived:
        fail("market_time", f'"{value}" contradicts the time, which is {derived} in New York '
                            f"({instant.tz_convert('America/New_York'):%Y-%m-%d %H:%M})")
    return value or derived


def _provider(name: str, known: Known, fail: Callable[[str], None]) -> str:
    canonical = known.provider_aliases.get(name.lower(), name)
    if canonical not in known.providers:
        fail(f'unknown provider "{name}" (known: {", ".join(sorted(known.providers))}; aliases in '
             "sql/seed/provider_alias.csv and the setting providers.aliases)")
    return canonical


def _parse_moves(text: str, tickers: tuple[str, ...], fail: Callable[[str], None]) -> tuple[tuple[str, float], ...]:
    moves: dict[str, float] = {}
    for part in (p for p in text.split(";") if p.strip()):
        match = _MOVE.match(part)
        if not match:
            fail(f'"{part.strip()}" is not TICKER=+2.1% or TICKER=0.021')
            continue
        ticker, number, percent = match.group(1).upper(), match.group(2), match.group(3)
        if ticker not in tickers:
            fail(f"{ticker} is not one of the event's tickers ({', '.join(tickers) or 'none'})")
        moves[ticker] = float(Decimal(number) / 100) if percent else float(number)
    return tuple(moves.items())


@dataclass(frozen=True)
class StoredEvent:
    """An event already in the warehouse and where it came from ('catalog' or 'user')."""

    event: Event
    origin: str


def duplicates_within(batch: Sequence[tuple[Event, Where]]) -> list[str]:
    """Repeated ids, or repeated (date, headline), inside one batch; each names both places."""
    problems = []
    first_id: dict[str, Where] = {}
    first_key: dict[tuple[date, str], Where] = {}
    for event, where in batch:
        if event.event_id in first_id:
            problems.append(f'{where("event_id")}: duplicate id "{event.event_id}" '
                            f'(also at {first_id[event.event_id]("event_id")})')
        first_id.setdefault(event.event_id, where)
        if event.duplicate_key in first_key:
            first = first_key[event.duplicate_key]("headline")
            problems.append(f'{where("headline")}: same date and headline as {first}')
        first_key.setdefault(event.duplicate_key, where)
    return problems


@dataclass(frozen=True)
class UserBatch:
    """What a batch of user events will do: events to write, ids already stored unchanged, replaced ids."""

    write: list[Event]
    unchanged: list[str]
    replaced: list[str]


def plan_user_events(batch: Sequence[tuple[Event, Where]], stored: Mapping[str, StoredEvent],
                     replace: bool) -> UserBatch:
    """Check a batch of user events against itself and the warehouse; raise :class:`EventError` on conflicts.

    An id of a catalog event is refused; an id of a stored user event is ``unchanged`` when identical and
    refused otherwise unless ``replace``; a (date, headline) already stored under another id is refused.
    """
    problems = duplicates_within(batch)
    stored_keys = {s.event.duplicate_key: event_id for event_id, s in stored.items()}
    write, unchanged, replaced = [], [], []
    for event, where in batch:
        previous = stored.get(event.event_id)
        other = stored_keys.get(event.duplicate_key)
        if previous is not None and previous.origin != "user":
            problems.append(f'{where("event_id")}: "{event.event_id}" is a catalog event; choose another id')
        elif previous is not None and previous.event == event:
            unchanged.append(event.event_id)
        elif previous is not None and not replace:
            problems.append(f'{where("event_id")}: event "{event.event_id}" already exists with other values; '
                            "use --replace to overwrite it")
        else:
            write.append(event)
            if previous is not None:
                replaced.append(event.event_id)
        if other is not None and other != event.event_id:
            problems.append(f'{where("headline")}: same date and headline as the stored event "{other}"')
    if problems:
        raise EventError(problems)
    return UserBatch(write, unchanged, replaced)
