"""Day 0 of an event for one ticker: the first session of the ticker's listing calendar that can react.

The rule (method contract ``shared/specs/event-study.md``, market-data notes §3.1) works on one UTC instant:

- **minute precision**: the announcement's own instant;
- **date precision**: a representative New York time on that date, by ``market_time`` (:data:`DATE_TIMES`):
  ``pre`` 08:00, ``intraday`` 12:00, ``post`` 16:30 and ``unknown`` 00:00 (the start of the day, the
  earliest the news can have come out, so day 0 is never after it; a [-1,+1] window covers the rest).
  Dates are New York dates, because the catalog's announcements are US ones; give a time and a time zone
  for news from elsewhere.

Day 0 is then the first session of the calendar whose close is after the instant (closes exclusive):

- during a session (``open <= t < close``, a Tokyo lunch break counts as open) -> that session;
- before the open on a session day -> that day's session;
- after the close, on a weekend or on a holiday -> the next session.

On New York calendars this gives, for date-precision events, exactly "that date if it is a session, else
the next; ``post`` -> the next session". On Tokyo's calendar an after-close US announcement (16:30 New York
is 05:30/06:30 the next morning in Tokyo) is day 0 = the next Tokyo session too, while ``pre`` and
``intraday`` US news (21:00-02:00 in Tokyo) also lands on the next Tokyo session; ``unknown`` (00:00 New
York = 13:00/14:00 in Tokyo) keeps "that date if it is a Tokyo session, else the next".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

from etl.market import calendars

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

NEW_YORK = ZoneInfo("America/New_York")
DATE_TIMES: dict[str, time] = {"unknown": time(0, 0), "pre": time(8, 0), "intraday": time(12, 0),
                               "post": time(16, 30)}
"""Representative New York time of a date-precision event, by market_time."""
EARLIEST_DATE = date(1990, 1, 1)
"""Events and calendars start here (older dates are refused as impossible for this product)."""


@dataclass(frozen=True)
class Day0:
    """Day 0 of one event on one calendar and the reason, as stored in ``event_day0``."""

    calendar: str
    day0: date
    rule: str


def exchange_calendar(mic: str) -> ExchangeCalendar:
    """The calendar of ``mic`` from :data:`EARLIEST_DATE` (or its own first session) to a year ahead."""
    return calendars.calendar(mic, EARLIEST_DATE)


def reference_instant(announced_at: datetime, time_precision: str, market_time: str) -> pd.Timestamp:
    """The UTC instant the day-0 rule uses. ``announced_at`` is naive UTC (midnight of the date for 'date')."""
    if time_precision == "minute":
        return pd.Timestamp(announced_at).tz_localize("UTC")
    local = datetime.combine(pd.Timestamp(announced_at).date(), DATE_TIMES[market_time], NEW_YORK)
    return pd.Timestamp(local).tz_convert("UTC")


def decide_day0(announced_at: datetime, time_precision: str, market_time: str, mic: str) -> Day0:
    """Day 0 on calendar ``mic`` with the rule that decided it (see the module docstring)."""
    instant = reference_instant(announced_at, time_precision, market_time)
    cal = exchange_calendar(mic)
    closes = cal.closes
    pos = int(closes.searchsorted(instant, side="right"))
    if pos >= len(closes) or instant < cal.opens.iloc[0]:
        raise ValueError(f"{instant:%Y-%m-%d %H:%M} UTC is outside the {mic} calendar "
                         f"({cal.first_session:%Y-%m-%d}..{cal.last_session:%Y-%m-%d})")
    session = closes.index[pos]
    local = instant.tz_convert(cal.tz)
    opens_at = cal.opens.iloc[pos].tz_convert(cal.tz)
    if instant >= cal.opens.iloc[pos]:
        relation = f"during the {mic} session"
    elif local.date() == session.date():
        relation = f"before the {mic} open ({opens_at:%H:%M}): that day's session"
    elif pos > 0 and closes.iloc[pos - 1].tz_convert(cal.tz).date() == local.date():
        relation = f"after the {mic} close ({closes.iloc[pos - 1].tz_convert(cal.tz):%H:%M}): next session"
    else:
        relation = f"no {mic} session on {local:%a %Y-%m-%d}: next session"
    if time_precision == "minute":
        how = f"announced {instant:%Y-%m-%d %H:%M} UTC = {local:%Y-%m-%d %H:%M} {cal.tz.key}"
    else:
        how = (f"date {pd.Timestamp(announced_at):%Y-%m-%d}, {market_time}: taken as "
               f"{DATE_TIMES[market_time]:%H:%M} New York")
        if cal.tz.key != NEW_YORK.key:
            how += f" = {local:%Y-%m-%d %H:%M} {cal.tz.key}"
    rule = f"{how}, {relation} -> {session:%Y-%m-%d}"
    return Day0(mic, session.date(), rule)


def new_york_market_time(instant: pd.Timestamp) -> str:
    """``pre``, ``intraday`` or ``post`` for an instant on a New York session day; ``unknown`` on other days."""
    cal = exchange_calendar("XNYS")
    local_day = pd.Timestamp(instant.tz_convert(NEW_YORK).date())
    if not cal.is_session(local_day):
        return "unknown"
    if instant < cal.session_open(local_day):
        return "pre"
    return "intraday" if instant < cal.session_close(local_day) else "post"
