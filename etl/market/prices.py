"""Daily prices: plan and run incremental Yahoo fetches, and store rows of one ticker per transaction.

Fetching (no warehouse lock held; the stored state is read from a read-only snapshot):

1. A ticker without rows is fetched from ``market.start``; one with rows from its last stored date minus
   ``market.overlap_days`` (the *overlap*), up to today. Tickers with the same start share one download.
2. Bars of a session that has not closed yet (today's, while the exchange trades) are dropped: they are
   provisional.
3. The overlap is compared with the stored rows. When the adjustment factor ``adj_close / close`` or the
   raw close of an overlapping session moved (beyond 1e-6 relative), or a new dividend or split arrived,
   Yahoo has re-based the history, so that ticker's full history is fetched again and written in one
   transaction: no seam between old and new adjusted closes.
4. The dates are checked against the listing exchange's calendar; missing or extra sessions go to the
   load's message in ``load_log``.

Storing (inside ``Warehouse.write``): rows go set-based from the pandas frame into ``prices`` (INSERT OR
REPLACE on (ticker, date)), only rows that are new or differ; each ticker is one transaction with its
``load_log`` row. A failed ticker writes a ``failed`` row to ``load_log`` and changes no price.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from etl.loadlog import LoadRecord, naive_utc, write_alone
from etl.market import calendars
from etl.market.calendars import Listing
from etl.market.store import recorded_load
from etl.warehouse import WarehouseMissingError, WriteSession, connect_readonly

log = logging.getLogger(__name__)

PRICE_COLUMNS = ("ticker", "date", "open", "high", "low", "close", "adj_close", "volume", "dividends",
                 "stock_splits")
_COMPARED = ("open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits", "currency",
             "exchange")
TOLERANCE = 1e-6  # relative change of a close or adjustment factor that counts as a re-basing


@dataclass
class PriceBatch:
    """Rows of one ticker ready to store, and what its ``load_log`` row should say."""

    result: LoadRecord  # status decided when stored
    listing: Listing
    frame: pd.DataFrame  # PRICE_COLUMNS, one row per date
    notes: list[str] = field(default_factory=list)
    full: bool = False  # a full re-fetch after a change of adjustment

    @property
    def ticker(self) -> str:
        return self.listing.ticker


@dataclass
class PriceFetch:
    batches: list[PriceBatch]
    failures: list[LoadRecord]
    unreachable: bool  # Yahoo could not be reached at all: nothing to write

    @property
    def unreachable_reason(self) -> str:
        reasons = [f.error or "" for f in self.failures]
        return next((r for r in reasons if "yfinance said" not in r), reasons[0] if reasons else "")


@dataclass(frozen=True)
class Stored:
    first: date
    last: date
    rows: int


def read_snapshot(db_path: Path, tickers: Sequence[str], overlap_days: int) -> tuple[dict[str, Stored],
                                                                                     pd.DataFrame]:
    """Stored date ranges of ``tickers`` and their rows in the overlap window, from the published warehouse."""
    empty = pd.DataFrame(columns=["ticker", "date", "close", "adj_close", "dividends", "stock_splits"])
    try:
        con = connect_readonly(db_path)
    except WarehouseMissingError:
        return {}, empty
    try:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'prices'"
                           ).fetchall()[0][0]:
            return {}, empty
        ranges = {t: Stored(first, last, n) for t, first, last, n in con.execute(
            "SELECT ticker, min(date), max(date), count(*) FROM prices WHERE list_contains(?, ticker) GROUP BY 1",
            [list(tickers)]).fetchall()}
        rows = con.execute(
            """
            SELECT p.ticker, p.date, p.close, p.adj_close, p.dividends, p.stock_splits
            FROM prices p
            JOIN (SELECT ticker, max(date) AS last FROM prices WHERE list_contains(?, ticker) GROUP BY 1) m
              USING (ticker)
            WHERE p.date >= m.last - ?::INTEGER
            ORDER BY p.ticker, p.date
            """,
            [list(tickers), overlap_days]).df()
        rows["date"] = pd.to_datetime(rows["date"]).astype("datetime64[us]")
        return ranges, rows
    finally:
        con.close()


def fetch(tickers: Sequence[str], db_path: Path, *, start: date, overlap_days: int, max_backoff_minutes: float,
          now: datetime, full: bool = False, sleep: Callable[[float], None] = time.sleep,
          timeout: float | None = None) -> PriceFetch:
    """Download what each ticker needs (see the module doc); nothing is written here. ``timeout``: seconds per
    request to Yahoo (default: the adapter's)."""
    from etl.market import yahoo  # imported on use: yfinance is slow to import and most commands need none

    listings = {t: calendars.listing(t) for t in dict.fromkeys(t.strip().upper() for t in tickers)}
    stored, stored_rows = read_snapshot(db_path, list(listings), overlap_days)
    end = now.date() + timedelta(days=1)
    plans: dict[str, date] = {}
    for ticker in listings:
        have = stored.get(ticker)
        if have is None:
            plans[ticker] = start
        elif full:
            plans[ticker] = min(start, have.first)
        else:
            plans[ticker] = have.last - timedelta(days=overlap_days)

    waited = [0.0]  # one back-off budget for the whole run, however many downloads it takes

    def download(group: dict[str, date]) -> tuple[dict[str, pd.DataFrame], dict[str, str], bool]:
        frames: dict[str, pd.DataFrame] = {}
        failures: dict[str, str] = {}
        unreachable = True
        by_start: dict[date, list[str]] = defaultdict(list)
        for ticker, first in group.items():
            by_start[first].append(ticker)
        for first, members in sorted(by_start.items()):
            log.info("fetching %s from Yahoo Finance, %s to %s", ", ".join(members), first, now.date())
            got = yahoo.daily_prices(members, first, end, max_backoff_minutes=max_backoff_minutes - waited[0],
                                     sleep=sleep, timeout=timeout or yahoo.TIMEOUT_S)
            waited[0] += got.waited_minutes
            unreachable = unreachable and got.unreachable
            failures.update(got.failures)
            for ticker, rows in got.frame.groupby("ticker", sort=False):
                frames[str(ticker)] = rows.sort_values("date").reset_index(drop=True)
        return frames, failures, unreachable

    started = datetime.now(now.tzinfo)
    frames, failures, unreachable = download(plans)
    batches: list[PriceBatch] = []
    failed: list[LoadRecord] = []
    refetch: dict[str, str] = {}
    for ticker, listing in listings.items():
        result = LoadRecord("prices", ticker, "failed", "yahoo", subject=ticker, first=plans[ticker],
                              last=now.date(), started=started)
        if ticker in failures or ticker not in frames:
            result.error = failures.get(ticker, f"Yahoo returned no prices for {ticker}")
            failed.append(result)
            continue
        batch = PriceBatch(result, listing, frames[ticker], full=full)
        _drop_open_sessions(batch, now)
        have = stored.get(ticker)
        if have is not None and not full:
            reason = adjustment_change(stored_rows[stored_rows["ticker"] == ticker], batch.frame, have.last)
            if reason:
                refetch[ticker] = reason
                continue
        batches.append(batch)
    if refetch:
        full_plans = {t: min(start, stored[t].first) for t in refetch}
        log.info("adjustment changed for %s: fetching their full history again", ", ".join(refetch))
        frames, failures, _ = download(full_plans)
        for ticker, reason in refetch.items():
            result = LoadRecord("prices", ticker, "failed", "yahoo", subject=ticker, first=full_plans[ticker],
                                  last=now.date(), started=started)
            if ticker in failures or ticker not in frames:
                result.error = (f"{reason}, and the full re-fetch failed: "
                                f"{failures.get(ticker, 'Yahoo returned no prices')}; the stored rows are kept")
                failed.append(result)
                continue
            batch = PriceBatch(result, listings[ticker], frames[ticker], [f"{reason}: full history re-fetched"],
                               full=True)
            _drop_open_sessions(batch, now)
            batches.append(batch)
    for batch in batches:
        check = calendars.check_sessions(batch.frame["date"].dt.date, batch.listing.calendar)
        batch.notes += [n for n in (batch.listing.note, check.describe()) if n]
    order = list(listings)
    return PriceFetch(sorted(batches, key=lambda b: order.index(b.ticker)),
                      sorted(failed, key=lambda f: order.index(f.subject)),
                      unreachable=unreachable and not batches and bool(failed))


def _drop_open_sessions(batch: PriceBatch, now: datetime) -> None:
    frame = batch.frame
    closed = calendars.closed_mask(frame["date"], batch.listing.calendar, now)
    if not closed.all():
        dropped = frame.loc[~closed, "date"].dt.date
        batch.notes.append(f"not stored: {', '.join(map(str, dropped))} (session not closed yet)")
        batch.frame = frame[closed].reset_index(drop=True)


def adjustment_change(stored: pd.DataFrame, fetched: pd.DataFrame, last_stored: date) -> str | None:
    """Why the fetched overlap shows a re-based history (new dividend or split), or None.

    Compared on the overlapping sessions before the last stored one: the raw close and the adjustment
    factor adj_close / close. A dividend or split on a fetched session after the last stored one counts too.
    """
    new_rows = fetched[fetched["date"].dt.date > last_stored]
    events = new_rows[(new_rows["dividends"].fillna(0) != 0) | (new_rows["stock_splits"].fillna(0) != 0)]
    if not events.empty:
        first = events.iloc[0]
        kind = "split" if first["stock_splits"] else "dividend"
        return f"new {kind} on {first['date'].date()}"
    old = stored.assign(date=pd.to_datetime(stored["date"]).astype("datetime64[us]"))
    both = old.merge(fetched.assign(date=fetched["date"].astype("datetime64[us]")), on="date",
                     suffixes=("_old", "_new"))
    both = both[both["date"].dt.date < last_stored]
    if both.empty:
        return None
    close_moved = ((both["close_new"] / both["close_old"]) - 1).abs() > TOLERANCE
    if close_moved.any():
        day = both.loc[close_moved, "date"].iloc[0].date()
        return f"the raw close of {day} changed (a split?)"
    if both["adj_close_old"].isna().any() and both["adj_close_new"].notna().any():
        return "the stored rows have no adjusted close"
    factor_old = both["adj_close_old"] / both["close_old"]
    factor_new = both["adj_close_new"] / both["close_new"]
    factor_moved = ((factor_new / factor_old) - 1).abs() > TOLERANCE
    if factor_moved.any():
        day = both.loc[factor_moved, "date"].iloc[0].date()
        return f"the adjustment factor of {day} changed (a new dividend or split)"
    return None


def store(session: WriteSession, batch: PriceBatch, loaded_at: datetime) -> LoadRecord:
    """Write one ticker's rows (new or changed only) and its ``load_log`` row in one transaction."""
    result = batch.result
    frame = batch.frame.reindex(columns=list(PRICE_COLUMNS)).assign(ticker=batch.ticker)
    if not frame.empty:
        result.first, result.last = frame["date"].min().date(), frame["date"].max().date()
    with recorded_load(session, result, "staged_prices", frame) as con:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE incoming_prices AS
            SELECT ticker::VARCHAR AS ticker, CAST(date AS DATE) AS date, open::DOUBLE AS open,
                   high::DOUBLE AS high, low::DOUBLE AS low, close::DOUBLE AS close,
                   adj_close::DOUBLE AS adj_close, volume::BIGINT AS volume, dividends::DOUBLE AS dividends,
                   stock_splits::DOUBLE AS stock_splits, ?::VARCHAR AS currency, ?::VARCHAR AS exchange,
                   ?::BIGINT AS load_id, ?::TIMESTAMP AS loaded_at
            FROM staged_prices WHERE close IS NOT NULL
            """,
            [batch.listing.currency, batch.listing.calendar, result.load_id, naive_utc(loaded_at)],
        )
        differs = " OR ".join(f"i.{c} IS DISTINCT FROM p.{c}" for c in _COMPARED)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE changed AS
            SELECT i.*, p.ticker IS NULL AS is_new FROM incoming_prices i LEFT JOIN prices p USING (ticker, date)
            WHERE p.ticker IS NULL OR {differs}
            """
        )
        new, revised = con.execute("SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new) FROM changed"
                                   ).fetchall()[0]
        con.execute("INSERT OR REPLACE INTO prices BY NAME SELECT * EXCLUDE (is_new) FROM changed")
        notes = [_counts(new, revised, len(frame)), *batch.notes]
        if batch.full:
            kept = con.execute(
                "SELECT count(*) FROM prices p WHERE p.ticker = ? AND NOT EXISTS "
                "(SELECT 1 FROM incoming_prices i WHERE i.date = p.date)", [batch.ticker]).fetchall()[0][0]
            if kept:
                notes.append(f"{kept} stored session(s) absent from the re-fetch kept as they were")
        result.rows = new + revised
        result.message = "; ".join(notes)
    return result


def _counts(new: int, revised: int, total: int) -> str:
    parts = [f"{new} new", f"{revised} revised"]
    if total - new - revised:
        parts.append(f"{total - new - revised} unchanged")
    return ", ".join(parts) + " row(s)"


def store_all(session: WriteSession, batches: Sequence[PriceBatch], failures: Sequence[LoadRecord],
              provider_tickers: dict[str, str], loaded_at: datetime) -> list[LoadRecord]:
    """Store every batch and log every failure in the write session; returns results in order."""
    results: list[LoadRecord] = []
    for batch in batches:
        try:
            results.append(store(session, batch, loaded_at))
        except duckdb.Error as exc:
            batch.result.status, batch.result.rows = "failed", 0
            batch.result.error = f"{batch.result.source}: could not store the rows: {str(exc).splitlines()[0]}"
            batch.result.load_id = None
            log.error("failed %s", batch.result.error)
            write_alone(session, batch.result)
            results.append(batch.result)
    for failure in failures:
        write_alone(session, failure)
        results.append(failure)
    record_provider_tickers(session, provider_tickers)
    return results


def record_provider_tickers(session: WriteSession, mapping: dict[str, str]) -> None:
    """Keep table ``provider_ticker`` equal to the ``providers.tickers`` setting, for SQL users."""
    frame = pd.DataFrame({"provider": list(mapping), "ticker": list(mapping.values())}, dtype="object")
    session.con.register("staged_provider_ticker", frame)
    try:
        with session.transaction() as con:
            con.execute("DELETE FROM provider_ticker")
            con.execute("INSERT INTO provider_ticker SELECT provider, ticker FROM staged_provider_ticker")
    finally:
        session.con.unregister("staged_provider_ticker")
