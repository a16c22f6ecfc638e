"""Daily spend series, the one input of the anomaly, forecast and budget statistics.

A series is one ``level`` of aggregation (``total``, ``provider``, ``service`` or ``account``) in one ``basis``:
``billing`` (the amounts in one billing currency, never mixed with another) or ``reporting`` (every currency
converted to the reporting currency with the rate of the charge date, as ``daily_spend_in_currency`` does).
Keys that do not apply to a level are the empty string, so that every key is a plain string.

A billing-basis series is left out when its reporting twin is the same numbers: the group is billed in one
currency only and that currency is the reporting currency. Series of different levels can still be the same numbers
(a provider with one billing account, the EUR total of the one provider billed in EUR): :func:`distinct_series`
keeps one of each such set, for statistics that would otherwise report one finding several times.

Series are dense: every day from the series' first day with spend to the last day its provider has loaded (for
``total``, the earliest of the providers' last days, so a late feed is not a drop in spend) holds a value, 0 where
nothing was charged. A reporting-basis day on which some amount has no exchange rate holds NULL (NaN in the frame):
the statistics skip such a day instead of reading a partial sum as a fall.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

LEVELS = ("total", "provider", "service", "account")
MEASURES = ("effective_cost", "billed_cost", "list_cost")
KEYS = ("level", "basis", "currency", "provider", "member")
"""The columns that name one series; ``member`` is the service name or the billing account id."""

_MEMBER = {
    "total": ("''", "''", "''"),
    "provider": ("provider", "''", "''"),
    "service": ("provider", "service_name", "service_name"),
    "account": ("provider", "billing_account_id", "coalesce(max(billing_account_name), billing_account_id)"),
}
"""Per level: the provider key, the member key and the member's display name, as SQL over ``daily_spend``."""


def _grouped(level: str) -> str:
    provider, member, name = _MEMBER[level]
    group = ", ".join(dict.fromkeys(k for k in ("date", "basis", "currency", provider, member) if k != "''"))
    return f"""
        SELECT '{level}' AS level, basis, currency, {provider} AS provider, {member} AS member,
               {name} AS member_name, date, sum(amount) AS amount, bool_or(fx_missing) AS fx_missing,
               count(DISTINCT billing_currency) AS billing_currencies, min(billing_currency) AS one_currency
        FROM rows GROUP BY {group}"""


def daily_series(con: duckdb.DuckDBPyConnection, reporting_currency: str, *, measure: str = "effective_cost",
                 levels: Sequence[str] = LEVELS, charge_categories: Sequence[str] | None = None) -> pd.DataFrame:
    """Every series of ``levels`` as one long frame: the :data:`KEYS`, ``member_name``, ``date`` and ``amount``
    (float; NaN where an exchange rate is missing), ordered by series and date. ``charge_categories`` (FOCUS
    ``ChargeCategory`` values, e.g. ``["Usage"]``) keeps only those charges; None keeps every charge."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    unknown = [level for level in levels if level not in LEVELS]
    if unknown or not levels:
        raise ValueError(f"levels must be among {', '.join(LEVELS)}, got {list(levels)!r}")
    grouped = " UNION ALL ".join(_grouped(level) for level in levels)
    charges = "true" if charge_categories is None else "list_contains($categories, charge_category)"
    sql = f"""
        WITH rows AS (
            SELECT date, provider, service_name, billing_account_id, billing_account_name, 'billing' AS basis,
                   currency, currency AS billing_currency, {measure}::DOUBLE AS amount, false AS fx_missing
            FROM daily_spend WHERE {charges}
            UNION ALL
            SELECT date, provider, service_name, billing_account_id, billing_account_name, 'reporting',
                   reporting_currency, currency, {measure}_reporting::DOUBLE, fx_missing
            FROM daily_spend_in_currency($currency) WHERE {charges}
        ),
        grouped AS ({grouped}),
        -- a billing series whose every day is in the reporting currency is its reporting twin: left out
        twins AS (
            SELECT level, provider, member FROM grouped WHERE basis = 'reporting'
            GROUP BY ALL HAVING max(billing_currencies) = 1 AND bool_and(one_currency = $currency)
        ),
        kept AS (
            SELECT g.* FROM grouped g
            WHERE g.basis = 'reporting' OR NOT EXISTS (
                SELECT 1 FROM twins t WHERE t.level = g.level AND t.provider = g.provider AND t.member = g.member)
        ),
        provider_end AS (SELECT provider, max(date) AS last_day FROM daily_spend_rollup GROUP BY provider),
        spans AS (
            SELECT level, basis, currency, k.provider, member, any_value(member_name) AS member_name,
                   min(date) AS first_day,
                   coalesce(any_value(p.last_day), (SELECT min(last_day) FROM provider_end)) AS last_day
            FROM kept k LEFT JOIN provider_end p ON p.provider = k.provider
            GROUP BY level, basis, currency, k.provider, member
        ),
        days AS (
            SELECT s.*, unnest(generate_series(s.first_day, s.last_day, INTERVAL 1 DAY))::DATE AS date FROM spans s
        )
        SELECT d.level, d.basis, d.currency, d.provider, d.member, d.member_name, d.date,
               CASE WHEN k.fx_missing THEN NULL ELSE coalesce(k.amount, 0) END AS amount
        FROM days d
        LEFT JOIN kept k ON k.level = d.level AND k.basis = d.basis AND k.currency = d.currency
             AND k.provider = d.provider AND k.member = d.member AND k.date = d.date
        ORDER BY d.level, d.basis, d.currency, d.provider, d.member, d.date
    """
    parameters: dict[str, object] = {"currency": reporting_currency.upper()}
    if charge_categories is not None:
        parameters["categories"] = list(charge_categories)
    return con.execute(sql, parameters).df()


DISTINCT_PREFERENCE = ("provider", "service", "account", "total")
"""Which level :func:`distinct_series` keeps of series that are the same numbers: the provider, the level a finance
reader names first; a service or an account over the total billed in a currency."""


def distinct_series(frame: pd.DataFrame, prefer: Sequence[str] = DISTINCT_PREFERENCE) -> pd.DataFrame:
    """``frame`` (of :func:`daily_series`) without the series whose every day (date and amount, to a millionth)
    equals a series of the same basis and currency at a level earlier in ``prefer``."""
    if frame.empty:
        return frame
    days = frame[["date"]].assign(amount=frame["amount"].round(6))
    fingerprint = frame[list(KEYS)].assign(row_hash=pd.util.hash_pandas_object(days, index=False).to_numpy())
    series = fingerprint.groupby(list(KEYS), sort=False).agg(digest=("row_hash", "sum"), days=("row_hash", "size"))
    series = series.reset_index()
    series["rank"] = series["level"].map({level: rank for rank, level in enumerate(prefer)})
    kept = series.sort_values("rank", kind="stable").drop_duplicates(["basis", "currency", "digest", "days"])
    return frame.merge(kept[list(KEYS)], on=list(KEYS), how="inner")
