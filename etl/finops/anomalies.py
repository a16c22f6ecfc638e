"""Spend anomalies: each daily series scored against its own history.

Every series of :func:`etl.finops.series.daily_series` (levels total, provider, service and account; the billing
basis per billing currency and the reporting basis; usage charges only, :data:`SCORED_CHARGES`; of series that are
the same numbers, such as a provider and its only billing account, one: :func:`etl.finops.series.distinct_series`)
is decomposed with STL (``statsmodels``: period 7, robust fitting), so the weekly pattern (weekend dips) and the
trend are the *expected* value of a day and only the residual can be unusual. The residuals' scale is their median
absolute deviation (x 1.4826, the normal consistency constant), which a few anomalies do not inflate; a day's robust
z is its residual over that scale.

A day is an anomaly when its spend is unusually *high*: z reaches the first of ``z`` (severity low; medium and
high from the next two), the actual value lies at least ``min_excess`` (money, the series' currency) above the
interval expected ± z x scale, so cents of noise on a tiny series never page anyone, and at least
``min_excess_pct`` % above the expected value, so a very smooth large series does not flag a 3 % step. Falls are
not flagged (as in AWS Cost Anomaly Detection): STL's centred trend rises ahead of a level shift, so the days before
it read as falls, and a feed that stops is the freshness checks' business. Days without a value (an amount
without an exchange rate: NaN) are interpolated for the fit but never scored. Only the last ``recent_days`` up to
the latest loaded day are flagged: a nightly run replaces those and keeps the anomalies older runs stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL

from etl.config import Config
from etl.finops.series import KEYS, LEVELS, MEASURES, daily_series, distinct_series
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

METHOD = "stl7-robust-mad56"
"""Recorded with every anomaly: STL with a weekly period and robust fitting, residual scale from the MAD of the
trailing 56 days."""
SEVERITIES = ("low", "medium", "high")
SCORED_CHARGES = ("Usage",)
"""The FOCUS charge categories a series sums. Purchases (commitment and support fees), taxes, credits and
adjustments fall on billing dates by contract (a Savings Plan's fee on the 1st of each month): against a daily
pattern every one of them would be an anomaly."""
PERIOD = 7
SEASONAL, TREND = 31, 29
"""STL's smoothers: the weekly pattern is taken over about 31 weeks and the trend over 29 days. With the defaults
(7 and 11 days) robust STL chases the noise, giving no weight to one day in ten and a MAD too small by half."""
MAD_TO_SD = 1.4826
SCALE_DAYS = 56
"""Days (eight weeks, up to and including the day scored) over which the residuals' MAD is taken."""
SCALE_FLOOR = 0.005
"""The smallest residual scale, as a share of the series' median absolute value over the same trailing days: a
perfectly flat series (a fixed monthly fee spread per day) has a MAD of 0, which would make any change an infinite
z."""
COLUMNS = ("date", *KEYS, "member_name", "expected", "lower", "upper", "actual", "excess", "excess_pct", "z",
           "severity", "method")


@dataclass(frozen=True)
class AnomalySettings:
    """The ``anomalies.*`` settings (README "Anomalies")."""

    measure: str = "effective_cost"
    z: tuple[float, float, float] = (3.0, 5.0, 8.0)
    min_history_days: int = 28
    recent_days: int = 90
    min_excess: float = 50.0
    min_excess_pct: float = 10.0

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"setting anomalies.measure: expected one of {', '.join(MEASURES)}, got "
                             f"{self.measure!r}")
        if len(self.z) != len(SEVERITIES) or list(self.z) != sorted(self.z) or self.z[0] <= 0:
            raise ValueError(f"setting anomalies.z: expected three increasing positive z-scores (low, medium, "
                             f"high), got {list(self.z)!r}")
        if self.min_history_days < 2 * PERIOD:
            raise ValueError(f"setting anomalies.min_history_days: at least {2 * PERIOD} (two weeks), got "
                             f"{self.min_history_days}")
        if self.recent_days < 1 or self.min_excess < 0 or self.min_excess_pct < 0:
            raise ValueError("settings anomalies.recent_days must be at least 1, anomalies.min_excess and "
                             "anomalies.min_excess_pct at least 0")

    @classmethod
    def from_config(cls, config: Config, **overrides: Any) -> AnomalySettings:
        """Settings ``anomalies.*`` with ``overrides`` (None values are ignored); ValueError names the setting."""
        try:
            z = tuple(float(value) for value in config.get("anomalies.z"))
        except ValueError as exc:
            raise ValueError(f"setting anomalies.z: {exc}") from None
        values = {"measure": config.get("anomalies.measure"), "z": z,
                  "min_history_days": config.get("anomalies.min_history_days"),
                  "recent_days": config.get("anomalies.recent_days"), "min_excess": config.get("anomalies.min_excess"),
                  "min_excess_pct": config.get("anomalies.min_excess_pct")}
        return cls(**(values | {name: value for name, value in overrides.items() if value is not None}))


@dataclass(frozen=True)
class Detection:
    """One run's result: the anomalies (columns :data:`COLUMNS`), the first day flagged, the last day of data, and
    how many series and days were scored or skipped."""

    anomalies: pd.DataFrame
    window_start: date | None
    data_until: date | None
    series_scored: int
    series_skipped: int
    days_scored: int

    @property
    def counts(self) -> dict[str, int]:
        return self.anomalies["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0).to_dict()


def detect(con: duckdb.DuckDBPyConnection, reporting_currency: str, settings: AnomalySettings) -> Detection:
    """Score every series of the warehouse behind ``con`` (see the module docstring)."""
    frame = distinct_series(daily_series(con, reporting_currency, measure=settings.measure, levels=LEVELS,
                                         charge_categories=SCORED_CHARGES))
    if frame.empty:
        return Detection(pd.DataFrame(columns=list(COLUMNS)), None, None, 0, 0, 0)
    data_until = frame["date"].max().date()
    window_start = data_until - timedelta(days=settings.recent_days - 1)
    scored, skipped = [], 0
    for _, series in frame.groupby(list(KEYS), sort=False):
        if series["amount"].notna().sum() < settings.min_history_days:
            skipped += 1
            continue
        scored.append(series.assign(expected=_expected(series["amount"].to_numpy())))
    if not scored:
        log.info("anomalies: no series has %d days of history (%d skipped)", settings.min_history_days, skipped)
        return Detection(pd.DataFrame(columns=list(COLUMNS)), window_start, data_until, 0, skipped, 0)
    fitted = pd.concat(scored, ignore_index=True)
    anomalies, days = _flag(fitted, pd.Timestamp(window_start), settings)
    log.info("anomalies: %d series scored, %d skipped (under %d days), %d days from %s scored, %d anomalies",
             len(scored), skipped, settings.min_history_days, days, window_start, len(anomalies))
    return Detection(anomalies, window_start, data_until, len(scored), skipped, days)


def _expected(amounts: np.ndarray) -> np.ndarray:
    """Trend + weekly seasonal of one series by robust STL; NaN days (no rate) are interpolated for the fit."""
    filled = pd.Series(amounts).interpolate(limit_direction="both").to_numpy()
    fit = STL(filled, period=PERIOD, seasonal=SEASONAL, trend=TREND, robust=True).fit()
    return fit.trend + fit.seasonal


def _flag(fitted: pd.DataFrame, window_start: pd.Timestamp, settings: AnomalySettings) -> tuple[pd.DataFrame, int]:
    """The anomalies among the scored days of the window, vectorised over every series; and the days scored."""
    residual = fitted["amount"] - fitted["expected"]
    keys = [fitted[k] for k in KEYS]
    # residuals centre on 0: their median absolute value is the MAD; over the trailing weeks, as the noise of a
    # growing series grows with it
    mad = residual.abs().groupby(keys, sort=False).transform(
        lambda r: r.rolling(SCALE_DAYS, min_periods=2 * PERIOD).median())
    level = fitted["amount"].abs().groupby(keys, sort=False).transform(
        lambda a: a.rolling(SCALE_DAYS, min_periods=2 * PERIOD).median())
    scale = np.maximum(MAD_TO_SD * mad, SCALE_FLOOR * level).replace(0, np.nan)
    z = residual / scale
    low = settings.z[0]
    half_width = low * scale
    lower, upper = fitted["expected"] - half_width, fitted["expected"] + half_width
    excess = fitted["amount"] - upper
    scored = (fitted["date"] >= window_start) & fitted["amount"].notna() & scale.notna()
    pct = 100 * residual / fitted["expected"].abs().replace(0, np.nan)
    # an expected value of 0 makes the percentage NaN: any excess over it is a change, so NaN passes
    hit = scored & (z >= low) & (excess >= settings.min_excess) & ~(pct < settings.min_excess_pct)
    out = fitted.loc[hit, ["date", *KEYS, "member_name", "expected"]].copy()
    out["lower"], out["upper"], out["actual"] = lower[hit], upper[hit], fitted.loc[hit, "amount"]
    out["excess"] = excess[hit]
    out["excess_pct"] = pct[hit]
    out["z"] = z[hit]
    out["severity"] = np.array(SEVERITIES)[np.searchsorted(settings.z, out["z"].to_numpy(), side="right") - 1]
    out["method"] = METHOD
    out["date"] = out["date"].dt.date
    return out.sort_values(["date", "z"], ascending=[True, False]).reset_index(drop=True), int(scored.sum())


@dataclass(frozen=True)
class StoredRun:
    run_id: int
    detection: Detection


def store(session: WriteSession, detection: Detection, settings: AnomalySettings, reporting_currency: str,
          started_at: datetime) -> int:
    """Replace the anomalies from the detection's first flagged day on and record the run, in one transaction;
    returns the run id. Anomalies before that day (flagged by earlier runs) are kept."""
    with session.transaction() as con:
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM anomaly_runs").fetchall()[0][0]
        if detection.window_start is not None:
            con.execute("DELETE FROM spend_anomalies WHERE date >= ?", [detection.window_start])
        if not detection.anomalies.empty:
            rows = detection.anomalies.assign(run_id=run_id, measure=settings.measure)
            con.register("anomaly_rows", rows)
            try:
                con.execute("INSERT INTO spend_anomalies BY NAME SELECT * FROM anomaly_rows")
            finally:
                con.unregister("anomaly_rows")
        counts = detection.counts
        con.execute(
            "INSERT INTO anomaly_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, _naive(started_at), _naive(datetime.now(UTC)), settings.measure, reporting_currency.upper(),
             list(settings.z), settings.min_history_days, settings.min_excess, settings.min_excess_pct,
             detection.window_start, detection.data_until, detection.series_scored, detection.series_skipped,
             detection.days_scored, len(detection.anomalies), counts["low"], counts["medium"], counts["high"]])
    return run_id


def run(session: WriteSession, reporting_currency: str, settings: AnomalySettings) -> StoredRun:
    """Detect on the session's copy and store the result: the ``anomalies`` step and ``anomalies run``."""
    started_at, clock = datetime.now(UTC), time.monotonic()
    detection = detect(session.con, reporting_currency, settings)
    run_id = store(session, detection, settings, reporting_currency, started_at)
    log.info("anomalies run %d stored in %.1f s", run_id, time.monotonic() - clock)
    return StoredRun(run_id, detection)


def summary(stored: StoredRun, top: int = 3) -> str:
    """One line for the cron mail: counts by severity and the largest anomalies of the window."""
    found = stored.detection
    if found.window_start is None:
        return f"run {stored.run_id}: no spend loaded"
    counts = ", ".join(f"{n} {severity}" for severity, n in found.counts.items())
    line = (f"run {stored.run_id}: {len(found.anomalies)} anomalies ({counts}) from {found.window_start} to "
            f"{found.data_until}; {found.series_scored} series scored, {found.series_skipped} skipped")
    return line + ("; top: " + "; ".join(describe(found.anomalies, top)) if len(found.anomalies) else "")


def describe(anomalies: pd.DataFrame, top: int) -> Sequence[str]:
    """The ``top`` anomalies by excess in money, as ``2025-06-01 AWS / EC2 (USD): 2,234.00 against expected
    1,000.00 (+123.4 %, high)``."""
    return [f"{row.date} {series_name(row)} ({'' if row.basis == 'reporting' else 'billed in '}{row.currency}): "
            f"{row.actual:,.2f} against expected "
            f"{row.expected:,.2f} ({row.excess_pct:+.1f} %, {row.severity})"
            for row in largest(anomalies, top).itertuples()]


def largest(anomalies: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` anomalies by excess in money."""
    return anomalies.nlargest(top, "excess")


def series_name(row: Any) -> str:
    if row.level == "total":
        return "All providers"
    return row.provider if row.level == "provider" else f"{row.provider} / {row.member_name or row.member}"


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
