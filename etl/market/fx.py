"""FX rates for the reporting views: the USD rate of every billing currency and of the configured ones.

Rates come from Yahoo pairs ``<CUR>USD=X`` (``CADUSD=X``: USD per 1 CAD) and are stored in ``fx_rates``
with ``quote_currency = 'USD'``; other reporting currencies use cross rates via USD in the views
(``sql/views/30_cost_reporting.sql``). Fetches are incremental like prices: a pair without rates starts at
``market.start`` or 10 days before the first charge in that currency, whichever is earlier; a stored pair
re-reads ``market.overlap_days`` before its last rate. Today's (still moving) rate is not stored.
"""

from __future__ import annotations

import csv
import functools
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from etl.loadlog import LoadRecord, naive_utc, write_alone
from etl.market.store import recorded_load
from etl.warehouse import SEED_DIR, WarehouseMissingError, WriteSession, connect_readonly

log = logging.getLogger(__name__)

QUOTE = "USD"
FIRST_CHARGE_MARGIN = timedelta(days=10)


class FxSettingsError(ValueError):
    """A configured currency is not an ISO 4217 code."""


@functools.cache
def iso_currencies() -> frozenset[str]:
    with open(SEED_DIR / "currency.csv", encoding="utf-8", newline="") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


def check_currency(code: str, setting: str) -> str:
    code = code.strip().upper()
    if code not in iso_currencies():
        raise FxSettingsError(f"setting {setting}: {code!r} is not an ISO 4217 currency code")
    return code


@dataclass(frozen=True)
class FxState:
    billing_first: dict[str, date]  # billing currency -> first charge date
    stored: dict[str, tuple[date, date]]  # currency -> (first, last) stored USD rate


def read_state(db_path: Path) -> FxState:
    try:
        con = connect_readonly(db_path)
    except WarehouseMissingError:
        return FxState({}, {})
    try:
        billing = dict(con.execute(
            "SELECT BillingCurrency, min(ChargePeriodStart)::DATE FROM cost_line GROUP BY 1").fetchall())
        stored: dict[str, tuple[date, date]] = {}
        if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'fx_rates'").fetchall()[0][0]:
            stored = {c: (first, last) for c, first, last in con.execute(
                "SELECT currency, min(date), max(date) FROM fx_rates WHERE quote_currency = ? GROUP BY 1",
                [QUOTE]).fetchall()}
        return FxState(billing, stored)
    finally:
        con.close()


def currencies_to_fetch(state: FxState, configured: Sequence[str], reporting: str) -> list[str]:
    """Every billing currency in the warehouse, the configured ones and the reporting currency, minus USD."""
    wanted = dict.fromkeys([*sorted(state.billing_first), *configured, reporting])
    return [c for c in wanted if c != QUOTE]


@dataclass
class FxBatch:
    result: LoadRecord
    currency: str
    frame: pd.DataFrame  # date, rate
    notes: list[str] = field(default_factory=list)
    rate_source: str = ""  # fx_rates.source; default "yahoo:<pair>"


@dataclass
class FxFetch:
    batches: list[FxBatch]
    failures: list[LoadRecord]
    unreachable: bool


def fetch(currencies: Sequence[str], state: FxState, *, start: date, overlap_days: int,
          max_backoff_minutes: float, now: datetime, sleep: Callable[[float], None] = time.sleep,
          timeout: float | None = None) -> FxFetch:
    """Download the USD rates each currency needs; nothing is written here. ``timeout``: seconds per request to
    Yahoo (default: the adapter's)."""
    from etl.market import yahoo  # imported on use: yfinance is slow to import

    plans: dict[str, date] = {}
    for currency in currencies:
        if currency in state.stored:
            plans[currency] = state.stored[currency][1] - timedelta(days=overlap_days)
        else:
            first_charge = state.billing_first.get(currency)
            plans[currency] = min(start, first_charge - FIRST_CHARGE_MARGIN) if first_charge else start
    end = now.date() + timedelta(days=1)
    by_start: dict[date, list[str]] = defaultdict(list)
    for currency, first in plans.items():
        by_start[first].append(currency)
    started = datetime.now(now.tzinfo)
    batches: list[FxBatch] = []
    failures: list[LoadRecord] = []
    unreachable = True
    waited = 0.0
    for first, members in sorted(by_start.items()):
        log.info("fetching USD rates of %s from Yahoo Finance, %s to %s", ", ".join(members), first, now.date())
        got = yahoo.fx_rates(members, first, end, quote=QUOTE, max_backoff_minutes=max_backoff_minutes - waited,
                             sleep=sleep, timeout=timeout or yahoo.TIMEOUT_S)
        waited += got.waited_minutes  # one back-off budget for the whole run
        unreachable = unreachable and got.unreachable
        for currency in members:
            symbol = yahoo.fx_symbol(currency, QUOTE)
            result = LoadRecord("fx", symbol, "failed", "yahoo", subject=currency, first=first, last=now.date(),
                                  started=started)
            rows = got.frame[got.frame["currency"] == currency]
            if symbol in got.failures or rows.empty:
                result.error = got.failures.get(symbol, f"Yahoo returned no rates for {symbol}")
                failures.append(result)
                continue
            batches.append(_batch(result, currency, rows, now))
    order = list(plans)
    return FxFetch(sorted(batches, key=lambda b: order.index(b.currency)),
                   sorted(failures, key=lambda f: order.index(f.subject)),
                   unreachable=unreachable and not batches and bool(failures))


def _batch(result: LoadRecord, currency: str, rows: pd.DataFrame, now: datetime) -> FxBatch:
    frame = rows[["date", "rate"]].sort_values("date").reset_index(drop=True)
    notes = []
    today = frame["date"].dt.date >= now.date()
    if today.any():
        notes.append(f"not stored: {frame.loc[today, 'date'].iloc[0].date()} (today's rate is still moving)")
        frame = frame[~today]
    unusable = ~frame["rate"].map(lambda r: math.isfinite(r) and r > 0)
    if unusable.any():
        notes.append(f"{int(unusable.sum())} non-positive rate(s) skipped "
                     f"({', '.join(str(d.date()) for d in frame.loc[unusable, 'date'][:3])})")
        frame = frame[~unusable]
    return FxBatch(result, currency, frame.reset_index(drop=True), notes)


def store(session: WriteSession, batch: FxBatch, loaded_at: datetime) -> LoadRecord:
    """Write one pair's new or changed rates and its ``load_log`` row in one transaction."""
    result = batch.result
    if not batch.frame.empty:
        result.first, result.last = batch.frame["date"].min().date(), batch.frame["date"].max().date()
    with recorded_load(session, result, "staged_fx", batch.frame) as con:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE incoming_fx AS
            SELECT CAST(date AS DATE) AS date, ?::VARCHAR AS currency, ?::VARCHAR AS quote_currency,
                   CAST(rate AS DECIMAL(20, 12)) AS rate, ?::VARCHAR AS source, ?::BIGINT AS load_id,
                   ?::TIMESTAMP AS loaded_at
            FROM staged_fx
            """,
            [batch.currency, QUOTE, batch.rate_source or f"yahoo:{result.source}", result.load_id,
             naive_utc(loaded_at)],
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE changed_fx AS
            SELECT i.*, r.date IS NULL AS is_new
            FROM incoming_fx i LEFT JOIN fx_rates r USING (currency, quote_currency, date)
            WHERE r.date IS NULL OR i.rate IS DISTINCT FROM r.rate
            """
        )
        new, revised = con.execute(
            "SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new) FROM changed_fx").fetchall()[0]
        con.execute("INSERT OR REPLACE INTO fx_rates BY NAME SELECT * EXCLUDE (is_new) FROM changed_fx")
        result.rows = new + revised
        result.message = "; ".join([f"{new} new, {revised} revised rate(s)", *batch.notes])
    return result


def store_all(session: WriteSession, outcome: FxFetch, loaded_at: datetime) -> list[LoadRecord]:
    results = [store(session, batch, loaded_at) for batch in outcome.batches]
    for failure in outcome.failures:
        write_alone(session, failure)
        results.append(failure)
    return results


def record_reporting_settings(session: WriteSession, currency: str, max_age_days: int,
                              recorded_at: datetime) -> None:
    """The reporting currency and rate-age limit the reporting views use from now on."""
    with session.transaction() as con:
        con.execute("DELETE FROM reporting_settings")
        con.execute("INSERT INTO reporting_settings VALUES (?, ?, ?)",
                    [currency, max_age_days, naive_utc(recorded_at)])
