"""Freshness by data, not by load time: how far each feed's data lags behind now, in days.

- Billing, per provider and billing account (view ``billing_freshness``, over the daily rollup): the latest
  ``ChargePeriodEnd`` loaded against now; stale when older than the expected delivery lag
  (``freshness.billing_lag_days``, per provider ``freshness.billing_lag_by_provider``).
- Prices, per ticker: its latest stored session against the latest *closed* session of its exchange calendar
  (``exchange_calendars``) as of now; stale when more than ``freshness.prices_sessions`` sessions behind.
- FX, per pair: the end (24:00 UTC) of its latest rate date against now; stale after ``freshness.fx_lag_days``.

``python -m etl status`` (text and ``--json``) and the dashboard's Data health page both call these functions, so
they never disagree. ``now`` is UTC (naive or aware). The last successful load stays a second fact in each frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from etl.config import Config
from etl.market import calendars

DAY_SECONDS = 86_400


class FreshnessSettingsError(ValueError):
    """A ``freshness.*`` setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class Freshness:
    """How late each kind of feed may be before it is stale."""

    billing_lag_days: float = 2.0
    billing_lag_by_provider: tuple[tuple[str, float], ...] = ()  # (provider, days): hashable, for caches
    prices_sessions: int = 1
    fx_lag_days: float = 4.0

    @classmethod
    def from_config(cls, config: Config) -> Freshness:
        by_provider = {}
        for provider, days in config.get("freshness.billing_lag_by_provider").items():
            try:
                by_provider[provider] = float(days)
            except ValueError:
                raise FreshnessSettingsError(f"setting freshness.billing_lag_by_provider: {provider}={days!r} is not "
                                             "a number of days") from None
        found = cls(config.get("freshness.billing_lag_days"), tuple(sorted(by_provider.items())),
                    config.get("freshness.prices_sessions"), config.get("freshness.fx_lag_days"))
        if min(found.billing_lag_days, found.prices_sessions, found.fx_lag_days, *by_provider.values()) < 0:
            raise FreshnessSettingsError("settings freshness.*: a lag cannot be negative")
        return found

    def billing_lag(self, provider: str) -> float:
        return dict(self.billing_lag_by_provider).get(provider, self.billing_lag_days)


def billing(con: duckdb.DuckDBPyConnection, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per provider and billing account: provider, account, account_name, first_day, last_day,
    data_until (latest ChargePeriodEnd), rows, last_load, days_behind (now - data_until), lag_days, stale."""
    frame = con.execute("SELECT * FROM billing_freshness ORDER BY provider, account").df()
    frame["days_behind"] = _days(_naive_utc(now) - pd.to_datetime(frame["data_until"]))
    frame["lag_days"] = [settings.billing_lag(p) for p in frame["provider"]]
    frame["stale"] = frame["days_behind"] > frame["lag_days"]
    return frame


def prices(con: duckdb.DuckDBPyConnection, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per ticker: ticker, exchange (calendar), currency, first_session, last_session, rows, loaded_at,
    latest_closed (the calendar's latest closed session as of now), sessions_behind, days_behind (calendar days
    from last_session to latest_closed), stale. A calendar exchange_calendars does not know leaves the three
    NULL and the ticker not stale."""
    frame = con.execute(
        """
        SELECT ticker, any_value(exchange) AS exchange, any_value(currency) AS currency,
               min(date) AS first_session, max(date) AS last_session, count(*) AS rows, max(loaded_at) AS loaded_at
        FROM prices GROUP BY ticker ORDER BY ticker
        """
    ).df()
    moment = pd.Timestamp(_naive_utc(now)).tz_localize(UTC)
    behind = [_sessions_behind(mic, pd.Timestamp(last).date(), moment)
              for mic, last in zip(frame["exchange"], frame["last_session"], strict=True)]
    frame["latest_closed"] = [b[0] if b else None for b in behind]
    frame["sessions_behind"] = pd.array([b[1] if b else None for b in behind], dtype="Int64")
    frame["days_behind"] = pd.array([(b[0] - pd.Timestamp(last).date()).days if b else None
                                     for b, last in zip(behind, frame["last_session"], strict=True)], dtype="Int64")
    frame["stale"] = (frame["sessions_behind"] > settings.prices_sessions).fillna(False).astype(bool)
    return frame


def fx(con: duckdb.DuckDBPyConnection, now: datetime, settings: Freshness) -> pd.DataFrame:
    """One row per FX pair (currency against its quote currency): pair, currency, quote_currency, first_date,
    last_date, rows, last_rate, source, loaded_at, days_behind (from the end of last_date, UTC), stale."""
    frame = con.execute(
        """
        SELECT currency || quote_currency AS pair, currency, quote_currency, min(date) AS first_date,
               max(date) AS last_date, count(*) AS rows, arg_max(rate, date)::DOUBLE AS last_rate,
               arg_max(source, date) AS source, max(loaded_at) AS loaded_at
        FROM fx_rates GROUP BY currency, quote_currency ORDER BY currency, quote_currency
        """
    ).df()
    frame["days_behind"] = _days(_naive_utc(now) - (pd.to_datetime(frame["last_date"]) + pd.Timedelta(days=1)))
    frame["stale"] = frame["days_behind"] > settings.fx_lag_days
    return frame


def _sessions_behind(mic: str | None, last: date, now: pd.Timestamp) -> tuple[date, int] | None:
    """The latest session of ``mic`` closed by ``now`` and how many closed after ``last``; None for a calendar
    exchange_calendars does not know."""
    from exchange_calendars.errors import CalendarError  # imported here, as in calendars.py: it is slow

    if not mic:
        return None
    try:
        window = calendars.sessions(mic, last + timedelta(days=1), now.date())
        closes = calendars.calendar(mic, last).closes.reindex(window)
    except (CalendarError, ValueError):
        return None
    closed = [session.date() for session, close in closes.items() if close <= now]
    return (closed[-1] if closed else last), len(closed)


def _days(delta: pd.Series) -> pd.Series:
    return (delta.dt.total_seconds() / DAY_SECONDS).round(1)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
