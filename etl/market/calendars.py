"""Where each ticker trades and on which sessions: listing table, exchange calendars, session checks.

The listing table is ``sql/seed/market_listing.csv`` (ticker, name, listing, calendar, currency); it is also
loaded into the warehouse as table ``market_listing``. A ticker missing there is placed by its Yahoo suffix
(``.T`` Tokyo, ``.L`` London, ...; no suffix: a US listing on NYSE sessions) and the load says so.

Sessions come from ``exchange_calendars`` (ISO MIC codes XNYS, XNAS, XTKS, ...). Its naive timestamps are
read as UTC, so every minute passed to it here is tz-aware.
"""

from __future__ import annotations

import csv
import functools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pandas as pd

from etl.warehouse import SEED_DIR

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

LISTING_FILE = SEED_DIR / "market_listing.csv"

# Yahoo suffix -> (calendar MIC, currency) for tickers not in the listing table.
SUFFIXES: dict[str, tuple[str, str]] = {
    ".T": ("XTKS", "JPY"), ".L": ("XLON", "GBP"), ".TO": ("XTSE", "CAD"), ".DE": ("XETR", "EUR"),
    ".F": ("XFRA", "EUR"), ".PA": ("XPAR", "EUR"), ".AS": ("XAMS", "EUR"), ".MI": ("XMIL", "EUR"),
    ".MC": ("XMAD", "EUR"), ".SW": ("XSWX", "CHF"), ".OL": ("XOSL", "NOK"), ".ST": ("XSTO", "SEK"),
    ".CO": ("XCSE", "DKK"), ".HK": ("XHKG", "HKD"), ".AX": ("XASX", "AUD"), ".KS": ("XKRX", "KRW"),
    ".SS": ("XSHG", "CNY"), ".SZ": ("XSHG", "CNY"), ".NS": ("XBOM", "INR"), ".SA": ("BVMF", "BRL"),
}
US_DEFAULT = ("XNYS", "USD")


@dataclass(frozen=True)
class Listing:
    ticker: str
    calendar: str  # ISO MIC of the exchange_calendars calendar its sessions follow
    currency: str
    name: str = ""
    known: bool = True  # False when placed by suffix rather than found in the listing table

    @property
    def note(self) -> str | None:
        if self.known:
            return None
        return (f"{self.ticker} is not in sql/seed/market_listing.csv; assumed {self.calendar} sessions and "
                f"{self.currency}")


@functools.cache
def _listing_table() -> dict[str, Listing]:
    with open(LISTING_FILE, encoding="utf-8", newline="") as handle:
        return {row["ticker"].upper(): Listing(row["ticker"].upper(), row["calendar"], row["currency"], row["name"])
                for row in csv.DictReader(handle)}


def listing(ticker: str) -> Listing:
    """The calendar and currency of ``ticker`` (listing table first, then the Yahoo suffix)."""
    ticker = ticker.strip().upper()
    found = _listing_table().get(ticker)
    if found:
        return found
    for suffix, (mic, currency) in sorted(SUFFIXES.items(), key=lambda item: -len(item[0])):
        if ticker.endswith(suffix):
            return Listing(ticker, mic, currency, known=False)
    return Listing(ticker, *US_DEFAULT, known=False)


@functools.lru_cache(maxsize=32)
def _calendar(mic: str, first_year: int) -> ExchangeCalendar:
    import exchange_calendars as xcals  # imported here: it takes half a second and most commands need none

    with warnings.catch_warnings():
        # exchange_calendars 4.13 trips pandas 3.1 deprecation warnings while it builds a calendar
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        start = pd.Timestamp(f"{first_year}-01-01")
        try:
            return xcals.get_calendar(mic, start=start)
        except ValueError:
            # earlier than the calendar can go (XTKS: 1997); dates before its first session pass unchecked
            bound = xcals.get_calendar(mic).bound_min()
            return xcals.get_calendar(mic, start=max(start, bound))


def calendar(mic: str, first: date) -> ExchangeCalendar:
    """An exchange_calendars calendar of ``mic`` covering ``first`` onwards (cached per year)."""
    return _calendar(mic, first.year)


def sessions(mic: str, first: date, last: date) -> pd.DatetimeIndex:
    """Sessions of ``mic`` from ``first`` to ``last`` inclusive (tz-naive dates)."""
    if last < first:
        return pd.DatetimeIndex([])
    cal = calendar(mic, first)
    lo = max(pd.Timestamp(first), cal.first_session)
    hi = min(pd.Timestamp(last), cal.last_session)
    if hi < lo:
        return pd.DatetimeIndex([])
    return cal.sessions_in_range(lo, hi)


@dataclass(frozen=True)
class SessionCheck:
    """Dates compared with the exchange's sessions between the first and last date of a load."""

    calendar: str
    missing: list[date]  # sessions without a row
    extra: list[date]  # rows on days that are not sessions

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra

    def describe(self, limit: int = 8) -> str | None:
        """``missing sessions (2): 2025-01-09, 2025-04-18; extra sessions (1): 2025-01-01`` or None."""
        parts = []
        for label, dates in (("missing sessions", self.missing), ("extra sessions", self.extra)):
            if dates:
                shown = ", ".join(d.isoformat() for d in dates[:limit])
                more = f" … and {len(dates) - limit} more" if len(dates) > limit else ""
                parts.append(f"{label} ({len(dates)}) on {self.calendar}: {shown}{more}")
        return "; ".join(parts) or None


def check_sessions(dates: Iterable[date], mic: str) -> SessionCheck:
    """Compare the dates of one ticker's rows with the sessions of ``mic`` over their own date range."""
    got = sorted(set(dates))
    if not got:
        return SessionCheck(mic, [], [])
    expected = {ts.date() for ts in sessions(mic, got[0], got[-1])}
    cal = calendar(mic, got[0])
    in_range = [d for d in got if cal.first_session.date() <= d <= cal.last_session.date()]
    return SessionCheck(mic, sorted(expected - set(got)), sorted(set(in_range) - expected))


def closed_mask(dates: pd.Series, mic: str, now: datetime) -> pd.Series:
    """True for dates whose session has closed by ``now`` (tz-aware); a non-session date counts as closed
    once it is over in UTC. Bars of a session still trading are provisional and are not stored."""
    if now.tzinfo is None:
        raise ValueError("now must be tz-aware")
    if dates.empty:
        return pd.Series([], dtype=bool, index=dates.index)
    as_dates = pd.to_datetime(dates).dt.normalize()
    first, last = as_dates.min().date(), as_dates.max().date()
    cal = calendar(mic, first)
    window = sessions(mic, first, last)
    closes = cal.closes.reindex(window) if len(window) else pd.Series(dtype="datetime64[ns, UTC]")
    close_of = as_dates.map(closes)  # NaT for non-sessions
    now_utc = pd.Timestamp(now).tz_convert(UTC)
    over_in_utc = as_dates + pd.Timedelta(days=1) <= now_utc.tz_localize(None)
    return close_of.le(now_utc).where(close_of.notna(), over_in_utc).astype(bool)

