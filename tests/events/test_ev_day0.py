"""Day 0 by the listing exchange calendar, on real 2025 sessions (expected sessions written out by hand).

2025 facts used: NYSE/Nasdaq closed on Thu 2025-01-09 (national day of mourning), Fri 2025-07-04
(Independence Day) and closed early (13:00) on Thu 2025-07-03; Tokyo closed on Tue 2025-09-23 (Autumnal
Equinox Day); Tokyo trades 09:00-11:30 and 12:30-15:30 JST; New York is UTC-5 in January, UTC-4 in June.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from etl.events.day0 import decide_day0, new_york_market_time, reference_instant

CASES = [
    # (what, announced_at UTC, precision, market_time, calendar, expected day 0, words in the rule)
    ("pre-open in New York: same day", datetime(2025, 6, 10, 10, 21), "minute", "pre", "XNAS",
     date(2025, 6, 10), "before the XNAS open (09:30): that day's session"),
    ("the same instant is after the Tokyo close: next Tokyo session", datetime(2025, 6, 10, 10, 21), "minute",
     "pre", "XTKS", date(2025, 6, 11), "after the XTKS close (15:30): next session"),
    ("during the session", datetime(2025, 3, 28, 17, 14), "minute", "intraday", "XNAS", date(2025, 3, 28),
     "during the XNAS session"),
    ("after the close (16:30 New York = 21:30 UTC): next session", datetime(2025, 1, 21, 21, 30), "minute",
     "post", "XNYS", date(2025, 1, 22), "after the XNYS close (16:00): next session"),
    ("the same after-close instant is before the Tokyo open: next session there too",
     datetime(2025, 1, 21, 21, 30), "minute", "post", "XTKS", date(2025, 1, 22), "before the XTKS open (09:00)"),
    ("exactly at the close counts as after it", datetime(2025, 6, 10, 20, 0), "minute", "post", "XNYS",
     date(2025, 6, 11), "after the XNYS close"),
    ("weekend: next Monday", datetime(2025, 6, 14, 16, 0), "minute", "unknown", "XNYS", date(2025, 6, 16),
     "no XNYS session on Sat 2025-06-14"),
    ("holiday (Independence Day): next session", datetime(2025, 7, 4, 14, 0), "minute", "unknown", "XNYS",
     date(2025, 7, 7), "no XNYS session on Fri 2025-07-04"),
    ("after an early close (13:00) before a holiday", datetime(2025, 7, 3, 17, 30), "minute", "post", "XNYS",
     date(2025, 7, 7), "after the XNYS close (13:00)"),
    ("Tokyo lunch break counts as the session", datetime(2025, 6, 11, 3, 0), "minute", "intraday", "XTKS",
     date(2025, 6, 11), "during the XTKS session"),
    ("date only, unknown time, a session: that date", datetime(2025, 7, 22), "date", "unknown", "XNYS",
     date(2025, 7, 22), "taken as 00:00 New York"),
    ("date only on a holiday (Carter mourning): next session", datetime(2025, 1, 9), "date", "unknown", "XNYS",
     date(2025, 1, 10), "no XNYS session on Thu 2025-01-09"),
    ("date only on a Saturday: next session", datetime(2025, 6, 14), "date", "unknown", "XNAS", date(2025, 6, 16),
     "no XNAS session on Sat 2025-06-14"),
    ("date only, pre: that date's session", datetime(2025, 11, 3), "date", "pre", "XNAS", date(2025, 11, 3),
     "taken as 08:00 New York"),
    ("date only, intraday: that date's session", datetime(2025, 11, 3), "date", "intraday", "XNAS",
     date(2025, 11, 3), "taken as 12:00 New York"),
    ("date only, post: next session", datetime(2025, 1, 21), "date", "post", "XNYS", date(2025, 1, 22),
     "taken as 16:30 New York, after the XNYS close"),
    ("date only, post, Tokyo: 16:30 New York is 06:30 next morning in Tokyo", datetime(2025, 1, 21), "date",
     "post", "XTKS", date(2025, 1, 22), "= 2025-01-22 06:30 Asia/Tokyo, before the XTKS open"),
    ("date only, pre, Tokyo: 08:00 New York is after the Tokyo close", datetime(2025, 6, 10), "date", "pre",
     "XTKS", date(2025, 6, 11), "= 2025-06-10 21:00 Asia/Tokyo, after the XTKS close"),
    ("date only, unknown, Tokyo: that date if it is a Tokyo session", datetime(2025, 6, 10), "date", "unknown",
     "XTKS", date(2025, 6, 10), "= 2025-06-10 13:00 Asia/Tokyo, during the XTKS session"),
    ("date only on a Tokyo holiday: next Tokyo session", datetime(2025, 9, 23), "date", "unknown", "XTKS",
     date(2025, 9, 24), "no XTKS session on Tue 2025-09-23"),
]


@pytest.mark.parametrize(("what", "announced", "precision", "market_time", "mic", "expected", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_day0_rule(what, announced, precision, market_time, mic, expected, words):
    found = decide_day0(announced, precision, market_time, mic)
    assert (found.calendar, found.day0) == (mic, expected)
    assert words in found.rule
    assert found.rule.endswith(f"-> {expected.isoformat()}")


def test_after_close_us_announcement_is_the_next_session_in_new_york_and_in_tokyo():
    """Stargate: announced after the US close on 2025-01-21 -> day 0 2025-01-22 in both places."""
    new_york = decide_day0(datetime(2025, 1, 21), "date", "post", "XNYS")
    tokyo = decide_day0(datetime(2025, 1, 21), "date", "post", "XTKS")
    assert new_york.day0 == tokyo.day0 == date(2025, 1, 22)


def test_date_precision_uses_new_york_times_across_daylight_saving():
    assert str(reference_instant(datetime(2025, 1, 21), "date", "post")) == "2025-01-21 21:30:00+00:00"
    assert str(reference_instant(datetime(2025, 6, 10), "date", "post")) == "2025-06-10 20:30:00+00:00"
    assert str(reference_instant(datetime(2025, 6, 10, 10, 21), "minute", "pre")) == "2025-06-10 10:21:00+00:00"


@pytest.mark.parametrize(("announced", "expected"), [
    (datetime(2025, 6, 10, 10, 21), "pre"), (datetime(2025, 6, 10, 13, 30), "intraday"),
    (datetime(2025, 6, 10, 20, 0), "post"), (datetime(2025, 6, 14, 15, 0), "unknown"),
])
def test_market_time_of_an_instant_is_relative_to_the_new_york_session(announced, expected):
    assert new_york_market_time(reference_instant(announced, "minute", "")) == expected


def test_an_instant_outside_the_calendar_is_an_error():
    with pytest.raises(ValueError, match="outside the XTKS calendar"):
        decide_day0(datetime(1995, 6, 1), "date", "unknown", "XTKS")
