"""Budgets (``[[budgets]]`` in config.toml) against actual spend and the stored forecasts.

A budget covers one scope (the total, a provider, a FOCUS service category or a billing account) over the month or
the quarter in progress, in its own currency: the actual is the period's spend to the as-of date converted into that
currency with the warehouse's FX macro ``daily_spend_in_currency`` (each charge date's rate; amounts without a usable
rate are left out, as everywhere).

Forecast of a budget: the stored forecasts (table ``forecasts``, step ``forecasts``) cover the total and each
provider in the reporting currency. A budget reuses the forecast of its *parent* (the provider's series for a
provider scope, the total's for every other scope) and pro-rates the parent's forecast of the remaining days by the
scope's share of the parent over the last ``SHARE_DAYS`` days to the as-of date, with the scope measured in the
budget's currency: ``forecast = actual + share * parent_remaining`` (the 80 % interval alike). The share also carries
the currency: for a provider budget in the reporting currency it is exactly 1. Pro-rating instead of a model per
category or account keeps the step's time independent of how many budgets are set, and a small scope's noisy series
would give a poorer model than its stable share of a larger one.

A threshold (in % of the amount) is crossed by the actual or by the forecast when it reaches it; the highest crossed
threshold of each is stored and reported (``etl run``'s summary, ``status --json``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from etl.config import Config
from etl.finops.forecast import ForecastSettings
from etl.pipelines import SettingsError
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

SCOPES = {"total": None, "provider": "provider", "service_category": "service_category",
          "billing_account": "billing_account_id"}
"""Scope -> the column of ``daily_spend`` its value matches (None: everything)."""
PERIODS = {"monthly": "month", "quarterly": "quarter"}
DEFAULT_THRESHOLDS = (80.0, 100.0)
SHARE_DAYS = 28  # four whole weeks, so the weekly pattern does not tilt the share


@dataclass(frozen=True)
class Budget:
    """One ``[[budgets]]`` table, checked."""

    name: str
    scope: str
    value: str
    period: str
    amount: float
    currency: str
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS


def configured_budgets(config: Config) -> list[Budget]:
    """The ``budgets`` setting as :class:`Budget` s; a bad value raises SettingsError naming ``budgets[i]`` and the
    key."""
    budgets: list[Budget] = []
    for index, table in enumerate(config.get("budgets")):
        where = f"{config.sources['budgets']}: setting 'budgets'[{index}]"
        scope, period, amount = table["scope"], table["period"], table["amount"]
        if scope not in SCOPES:
            raise SettingsError(f"{where}: key 'scope': expected one of {', '.join(SCOPES)}, got {scope!r}")
        if (scope == "total") == ("value" in table):
            raise SettingsError(f"{where}: key 'value': " + ("does not apply to scope total" if scope == "total"
                                                             else f"required for scope {scope}"))
        if period not in PERIODS:
            raise SettingsError(f"{where}: key 'period': expected one of {', '.join(PERIODS)}, got {period!r}")
        if isinstance(amount, bool) or not math.isfinite(amount) or amount <= 0:
            raise SettingsError(f"{where}: key 'amount': expected a positive number, got {amount!r}")
        thresholds = table.get("thresholds", DEFAULT_THRESHOLDS)
        if not thresholds or any(isinstance(t, bool) or not isinstance(t, int | float) or t <= 0
                                 for t in thresholds):
            raise SettingsError(f"{where}: key 'thresholds': expected a list of positive percentages, "
                                f"got {thresholds!r}")
        currency = table.get("currency", config.get("reporting_currency")).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise SettingsError(f"{where}: key 'currency': expected an ISO 4217 code, got {currency!r}")
        if any(budget.name == table["name"] for budget in budgets):
            raise SettingsError(f"{where}: key 'name': {table['name']!r} is already the name of another budget")
        budgets.append(Budget(table["name"], scope, table.get("value", ""), period, float(amount), currency,
                              tuple(sorted(float(t) for t in thresholds))))
    return budgets


def period_label(period: str, start: date) -> str:
    """``2025-12`` for a month, ``2025-Q4`` for a quarter."""
    return f"{start:%Y-%m}" if period == "month" else f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def evaluate(con: duckdb.DuckDBPyConnection, budgets: list[Budget], settings: ForecastSettings, *,
             evaluated_at: datetime | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of table ``budget_status`` for ``budgets``, and the budgets that could not be evaluated (no stored
    forecast of their parent series) with the reason."""
    evaluated_at = (evaluated_at or datetime.now(UTC)).replace(tzinfo=None)
    rows, skipped = [], []
    for budget in budgets:
        parent = "" if budget.scope != "provider" else budget.value
        period = PERIODS[budget.period]
        stored = con.execute(
            "SELECT period_start, period_end, as_of, actual_to_date, forecast_remaining, lower_80, upper_80 "
            "FROM forecasts WHERE basis = 'reporting' AND level = ? AND provider = ? AND period = ?",
            ["total" if not parent else "provider", parent, period]).fetchall()
        if not stored:
            skipped.append(f"budget {budget.name}: no forecast of {parent or 'the total'} in the reporting currency")
            continue
        [(start, end, as_of, parent_actual, remaining, lower, upper)] = stored
        actual, share = _actual_and_share(con, budget, settings, start, as_of)
        forecast, low, high = (actual + share * (value - parent_actual) for value in
                               (parent_actual + remaining, lower, upper))
        actual_pct, forecast_pct = 100 * actual / budget.amount, 100 * forecast / budget.amount
        rows.append({
            "budget": budget.name, "scope": budget.scope, "scope_value": budget.value, "period": budget.period,
            "period_label": period_label(period, start), "period_start": start, "period_end": end, "as_of": as_of,
            "currency": budget.currency, "amount": budget.amount, "actual": actual, "forecast": forecast,
            "forecast_lower_80": low, "forecast_upper_80": high, "actual_pct": actual_pct,
            "forecast_pct": forecast_pct, "thresholds": list(budget.thresholds),
            "actual_crossed": _crossed(actual_pct, budget.thresholds),
            "forecast_crossed": _crossed(forecast_pct, budget.thresholds),
            "forecast_method": f"{parent or 'total'} forecast x {share:.4f} (share over {SHARE_DAYS} days)",
            "evaluated_at": evaluated_at})
    return pd.DataFrame(rows), skipped


def _actual_and_share(con: duckdb.DuckDBPyConnection, budget: Budget, settings: ForecastSettings, start: date,
                      as_of: date) -> tuple[float, float]:
    """The scope's spend from ``start`` to ``as_of`` in the budget's currency, and its share of the parent's
    reporting-currency spend over the last :data:`SHARE_DAYS` days."""
    column = SCOPES[budget.scope]
    in_scope = f"{column} = $value" if column else "true"
    in_parent = "provider = $value" if budget.scope == "provider" else "true"
    amount = f"{settings.measure}_reporting"
    [(actual, scope_recent, parent_recent)] = con.execute(f"""
        WITH scope AS (
            SELECT date, {amount} AS amount FROM daily_spend_in_currency($currency)
            WHERE {in_scope} AND date BETWEEN least($start, $recent) AND $as_of
        )
        SELECT (SELECT coalesce(sum(amount), 0) FROM scope WHERE date >= $start),
               (SELECT coalesce(sum(amount), 0) FROM scope WHERE date >= $recent),
               (SELECT coalesce(sum({amount}), 0) FROM daily_spend_in_currency($reporting)
                WHERE {in_parent} AND date BETWEEN $recent AND $as_of)
    """, {"currency": budget.currency, "reporting": settings.reporting_currency, "start": start, "as_of": as_of,
          "recent": as_of - timedelta(days=SHARE_DAYS - 1)} | ({"value": budget.value} if column else {})).fetchall()
    return float(actual), float(scope_recent) / float(parent_recent) if parent_recent else 0.0


def _crossed(pct: float, thresholds: tuple[float, ...]) -> float | None:
    reached = [t for t in thresholds if pct >= t]
    return max(reached) if reached else None


def store(session: WriteSession, status: pd.DataFrame) -> None:
    """Replace table ``budget_status`` with this evaluation (a budget removed from the settings disappears)."""
    with session.transaction() as con:
        con.execute("DELETE FROM budget_status")
        if status.empty:
            return
        con.register("budget_rows", status)
        try:
            con.execute("INSERT INTO budget_status BY NAME SELECT * FROM budget_rows")
        finally:
            con.unregister("budget_rows")


def alerts(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every crossed threshold stored in ``budget_status``: one entry per budget and basis (actual, forecast) with
    the highest threshold reached, and the line the cron mail shows for it."""
    frame = con.execute("""
        SELECT budget, period_label, currency, amount, as_of, basis, pct, threshold
        FROM (SELECT *, 'actual' AS basis, actual_pct AS pct, actual_crossed AS threshold FROM budget_status
              UNION ALL
              SELECT *, 'forecast', forecast_pct, forecast_crossed FROM budget_status)
        WHERE threshold IS NOT NULL ORDER BY budget, basis
    """).df()
    return [{"budget": r.budget, "period": r.period_label, "basis": r.basis, "pct": round(float(r.pct), 1),
             "threshold": float(r.threshold), "amount": float(r.amount), "currency": r.currency,
             "as_of": r.as_of.date().isoformat(),
             "message": f"budget {r.budget} {r.period_label}: {r.basis} {r.pct:,.0f} % of {r.currency} "
                        f"{r.amount:,.0f} (threshold {r.threshold:g} %)"}
            for r in frame.itertuples()]


@dataclass(frozen=True)
class BudgetCheck:
    """What step ``budgets`` did: budgets evaluated, those skipped (with the reason) and the crossed thresholds."""

    evaluated: int
    skipped: list[str]
    alerts: list[dict[str, object]]

    def counts(self) -> str:
        return f"{self.evaluated} budgets evaluated, {len(self.alerts)} thresholds crossed"


def check(session: WriteSession, budgets: list[Budget], settings: ForecastSettings) -> BudgetCheck:
    """The job of step ``budgets``: evaluate ``budgets`` against the stored forecasts, store and read the alerts."""
    status, skipped = evaluate(session.con, budgets, settings)
    store(session, status)
    result = BudgetCheck(len(status), skipped, alerts(session.con))
    log.info("budgets: %s, %d skipped", result.counts(), len(skipped))
    return result
