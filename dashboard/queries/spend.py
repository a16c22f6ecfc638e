"""Spend in the reporting currency: KPIs, spend over time, breakdowns and top movers (the Overview page).

Every query reads a daily rollup, ``daily_spend`` or, with a tag filter, ``daily_tag_spend`` (the same grain per tag
key and value), converted with the rate lookup of ``daily_spend_in_currency``, ``fx_rates_into(currency,
max_age_days := N)``, so the page follows the ``reporting_currency`` and ``fx.max_rate_age_days`` settings, both
paths convert alike, and no query aggregates cost rows.

Amounts whose conversion has no usable rate (``fx_missing``) are never added into a converted total:
:func:`unconverted` lists them per original currency, for the page to show separately with a warning.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from dashboard.queries.reader import Reader

MEASURES = {"effective": "effective_cost", "billed": "billed_cost", "list": "list_cost"}
"""Cost basis -> column of ``daily_spend``; effective cost (amortized, net of discounts) is the default."""
MEASURE_LABELS = {"effective": "Effective cost", "billed": "Billed cost", "list": "List cost"}
_COST_COLUMNS = {"effective": "EffectiveCost", "billed": "BilledCost", "list": "ListCost"}

DIMENSIONS = {
    "provider": "provider",
    "service_category": "service_category",
    # the same service name exists at several providers (Networking), so a service is named with its provider
    "service": "service_name || ' (' || provider || ')'",
    "billing_account": "coalesce(billing_account_name, billing_account_id)",
}
DIMENSION_LABELS = {"provider": "Provider", "service_category": "Service category", "service": "Service",
                    "billing_account": "Billing account"}
GRAINS = ("day", "week", "month")
AI_COMPUTE_CATEGORIES = ("AI and Machine Learning", "Compute")


@dataclass(frozen=True)
class SpendFilter:
    """What the Overview shows: a date range (inclusive), filters, the cost basis and the currency.

    Empty tuples mean "all". ``tag_key`` and ``tag_value`` filter on the cost rows' ``Tags`` (both or
    neither; the value as text, as in ``daily_tag_spend``). Frozen and hashable, so it is a cache key as it is.
    """

    start: date
    end: date
    currency: str = "USD"
    measure: str = "effective"
    max_age_days: int = 7
    providers: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tag_key: str | None = None
    tag_value: str | None = None

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"unknown cost basis {self.measure!r}; expected one of {sorted(MEASURES)}")
        if self.start > self.end:
            raise ValueError(f"the date range starts ({self.start}) after it ends ({self.end})")
        if (self.tag_key is None) != (self.tag_value is None):
            raise ValueError("a tag filter needs both a key and a value")

    @property
    def tagged(self) -> bool:
        return self.tag_key is not None

    def between(self, start: date, end: date) -> SpendFilter:
        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class FilterOptions:
    """The values the filters offer, from the rollup (small)."""

    first_day: date | None
    last_day: date | None
    providers: tuple[str, ...]
    accounts: tuple[tuple[str, str], ...]  # (billing_account_id, label)
    categories: tuple[str, ...]


def filter_options(reader: Reader) -> FilterOptions:
    first, last, providers, categories = reader.row(
        """
        SELECT min(date), max(date), list_sort(list_distinct(list(provider))),
               list_sort(list_distinct(list(service_category)))
        FROM daily_spend
        """
    )
    accounts = reader.frame(
        """
        SELECT billing_account_id AS id,
               any_value(provider) || ': ' || coalesce(any_value(billing_account_name), billing_account_id)
               || ' (' || billing_account_id || ')' AS label
        FROM daily_spend GROUP BY billing_account_id ORDER BY label
        """
    )
    return FilterOptions(first, last, tuple(providers or ()), tuple(zip(accounts["id"], accounts["label"],
                                                                          strict=True)), tuple(categories or ()))


# --- the filtered, converted spend: one SQL relation every query builds on ---------------------------------

def spend_relation(flt: SpendFilter, start: date | None = None, end: date | None = None) -> tuple[str, dict]:
    """SQL (a SELECT) and its named parameters: the filtered spend from ``start`` to ``end`` (inclusive).

    Columns: date, provider, service_category, service_name, billing_account_id, billing_account_name,
    currency, rows, amount (in ``currency``), amount_rep (in the reporting currency; NULL when fx_missing),
    fx_missing, fx_issue.
    """
    params = {
        "cur": flt.currency.upper(), "age": flt.max_age_days,
        "start": start or flt.start, "end": end or flt.end,
        "providers": list(flt.providers), "accounts": list(flt.accounts), "categories": list(flt.categories),
    }
    measure = MEASURES[flt.measure]  # from the allow-list above, never from user text
    source = "daily_spend"
    if flt.tagged:
        source = "(SELECT * FROM daily_tag_spend WHERE tag_key = $tag_key AND tag_value = $tag_value)"
        params |= {"tag_key": flt.tag_key, "tag_value": flt.tag_value}
    sql = f"""
        SELECT d.date, d.provider, d.service_category, d.service_name, d.billing_account_id, d.billing_account_name,
               d.currency, d.rows, d.{measure} AS amount, ss_fx_amount(d.{measure}, r.fx_rate) AS amount_rep,
               r.fx_missing, r.fx_issue
        FROM {source} d JOIN fx_rates_into($cur, max_age_days := $age) r USING (date, currency)
        WHERE d.date BETWEEN $start AND $end
          AND (len($providers::VARCHAR[]) = 0 OR list_contains($providers::VARCHAR[], d.provider))
          AND (len($accounts::VARCHAR[]) = 0 OR list_contains($accounts::VARCHAR[], d.billing_account_id))
          AND (len($categories::VARCHAR[]) = 0 OR list_contains($categories::VARCHAR[], d.service_category))
    """
    return sql, params


# --- KPIs ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kpis:
    """The Overview's tiles. Months are anchored on ``as_of``: the end of the date range, or the last day
    with data if that is earlier. Amounts are in the reporting currency and leave out amounts without a rate.

    ``this_month`` runs from the first of as_of's month to as_of; ``last_month`` is the whole previous month
    and ``last_month_same_days`` its first as_of.day days, so month-over-month compares like with like.
    Top provider and AI/compute share are over the whole selected range.
    """

    as_of: date | None
    this_month_start: date | None
    this_month: Decimal
    last_month_start: date | None
    last_month: Decimal
    last_month_same_days: Decimal
    total: Decimal
    top_provider: str | None
    top_provider_amount: Decimal
    ai_compute: Decimal

    @property
    def month_over_month(self) -> float | None:
        """Change of this month to date against the same days of last month (0.1 = +10 %)."""
        if not self.last_month_same_days:
            return None
        return float(self.this_month / self.last_month_same_days - 1)

    @property
    def top_provider_share(self) -> float | None:
        return float(self.top_provider_amount / self.total) if self.total > 0 else None

    @property
    def ai_compute_share(self) -> float | None:
        return float(self.ai_compute / self.total) if self.total > 0 else None


def month_window(as_of: date) -> tuple[date, date, date]:
    """(first of as_of's month, first of the previous month, last day of the previous month's same days)."""
    this_start = as_of.replace(day=1)
    last_start = (this_start - timedelta(days=1)).replace(day=1)
    same_days = min(as_of.day, calendar.monthrange(last_start.year, last_start.month)[1])
    return this_start, last_start, last_start.replace(day=same_days)


def kpis(reader: Reader, flt: SpendFilter) -> Kpis:
    zero = Decimal(0)
    (last_day,) = reader.row("SELECT max(date) FROM daily_spend")
    if last_day is None:
        return Kpis(None, None, zero, None, zero, zero, zero, None, zero, zero)
    as_of = min(flt.end, last_day)
    this_start, last_start, last_same_end = month_window(as_of)
    sql, params = spend_relation(flt, min(flt.start, last_start), flt.end)  # one pass covers both windows
    row = reader.row(
        f"""
        WITH spend AS (SELECT * FROM ({sql}) WHERE NOT fx_missing),
        ranged AS (SELECT * FROM spend WHERE date >= $range_start),
        by_provider AS (SELECT provider, sum(amount_rep) AS amount FROM ranged GROUP BY 1)
        SELECT coalesce(sum(amount_rep) FILTER (date BETWEEN $this_start AND $as_of), 0),
               coalesce(sum(amount_rep) FILTER (date BETWEEN $last_start AND $this_start - 1), 0),
               coalesce(sum(amount_rep) FILTER (date BETWEEN $last_start AND $last_same_end), 0),
               (SELECT coalesce(sum(amount), 0) FROM by_provider),
               (SELECT arg_max(provider, amount) FROM by_provider),
               (SELECT coalesce(max(amount), 0) FROM by_provider),
               (SELECT coalesce(sum(amount_rep), 0) FROM ranged
                WHERE list_contains($ai::VARCHAR[], service_category))
        FROM spend
        """,
        params | {"range_start": flt.start, "this_start": this_start, "as_of": as_of, "last_start": last_start,
                  "last_same_end": last_same_end, "ai": list(AI_COMPUTE_CATEGORIES)},
    )
    this_month, last_month, last_same, total, top_provider, top_amount, ai = row
    return Kpis(as_of, this_start, Decimal(this_month), last_start, Decimal(last_month), Decimal(last_same),
                Decimal(total), top_provider, Decimal(top_amount), Decimal(ai))


# --- charts' data -------------------------------------------------------------------------------------------

def spend_over_time(reader: Reader, flt: SpendFilter, grain: str = "month", by: str = "provider",
                    top: int = 10) -> pd.DataFrame:
    """Spend per period (``day``, ``week`` starting Monday, ``month``) and ``by`` (a key of DIMENSIONS),
    in the reporting currency: columns period, <by>, amount. Beyond the ``top`` largest groups of the
    range, the rest is one group "All other"."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    sql, params = spend_relation(flt)
    return reader.frame(
        f"""
        WITH spend AS ({sql}),
        agg AS (
            SELECT date_trunc('{grain}', date)::DATE AS period, {DIMENSIONS[by]} AS grp, sum(amount_rep) AS amount
            FROM spend WHERE NOT fx_missing GROUP BY ALL
        ),
        ranked AS (SELECT grp, row_number() OVER (ORDER BY sum(amount) DESC, grp) AS r FROM agg GROUP BY grp)
        SELECT period, CASE WHEN r <= $top THEN grp ELSE 'All other' END AS "{by}",
               sum(amount)::DOUBLE AS amount
        FROM agg JOIN ranked USING (grp)
        GROUP BY ALL ORDER BY period, min(r)
        """,
        params | {"top": top},
    )


def spend_by(reader: Reader, flt: SpendFilter, by: str = "service_category", top: int = 15) -> pd.DataFrame:
    """Total spend of the range per ``by``, largest first: columns <by>, amount, share (of the total).
    Beyond the ``top`` largest, the rest is one row "All other"."""
    sql, params = spend_relation(flt)
    return reader.frame(
        f"""
        WITH spend AS ({sql}),
        agg AS (SELECT {DIMENSIONS[by]} AS grp, sum(amount_rep) AS amount FROM spend WHERE NOT fx_missing
                GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (ORDER BY amount DESC, grp) AS r FROM agg)
        SELECT CASE WHEN r <= $top THEN grp ELSE 'All other' END AS "{by}", sum(amount)::DOUBLE AS amount,
               (sum(amount) / nullif((SELECT sum(amount) FROM agg), 0))::DOUBLE AS share
        FROM ranked GROUP BY ALL ORDER BY min(r)
        """,
        params | {"top": top},
    )


def unconverted(reader: Reader, flt: SpendFilter) -> pd.DataFrame:
    """Spend of the range without a usable rate into the reporting currency, per original currency: columns
    currency, rows (cost rows), amount (in that currency), first_day, last_day, fx_issue (the latest reason).
    Empty when everything converts."""
    sql, params = spend_relation(flt)
    return reader.frame(
        f"""
        WITH spend AS ({sql})
        SELECT currency, sum(rows)::BIGINT AS rows, sum(amount)::DOUBLE AS amount, min(date) AS first_day,
               max(date) AS last_day, arg_max(fx_issue, date) AS fx_issue
        FROM spend WHERE fx_missing GROUP BY currency ORDER BY currency
        """,
        params,
    )


# --- top movers ---------------------------------------------------------------------------------------------

Period = tuple[date, date]


def top_movers(reader: Reader, flt: SpendFilter, current: Period, previous: Period, limit: int = 15) -> pd.DataFrame:
    """Services whose spend changed most (absolute change) from ``previous`` to ``current`` (inclusive periods,
    e.g. from ``dashboard.services.periods.mover_periods``): columns provider, service_name, service_category,
    previous, current, change, change_pct (NULL when previous is 0). Filters other than the date range apply."""
    first, last = min(current[0], previous[0]), max(current[1], previous[1])
    sql, params = spend_relation(flt, first, last)
    return reader.frame(
        f"""
        WITH spend AS ({sql}),
        agg AS (
            SELECT provider, service_name, any_value(service_category) AS service_category,
                   coalesce(sum(amount_rep) FILTER (date BETWEEN $prev_start AND $prev_end), 0) AS previous,
                   coalesce(sum(amount_rep) FILTER (date BETWEEN $cur_start AND $cur_end), 0) AS current
            FROM spend WHERE NOT fx_missing GROUP BY provider, service_name
        )
        SELECT provider, service_name, service_category, previous::DOUBLE AS previous, current::DOUBLE AS current,
               (current - previous)::DOUBLE AS change,
               CASE WHEN previous <> 0 THEN ((current - previous) / abs(previous) * 100)::DOUBLE END AS change_pct
        FROM agg WHERE current <> previous
        ORDER BY abs(current - previous) DESC, provider, service_name
        LIMIT $limit
        """,
        params | {"prev_start": previous[0], "prev_end": previous[1], "cur_start": current[0],
                  "cur_end": current[1], "limit": limit},
    )


# --- tags (the tag rollup) ---------------------------------------------------------------------------------

def tag_keys(reader: Reader, start: date, end: date) -> tuple[str, ...]:
    """Every tag key with a value on a cost row charged in the range, sorted."""
    rows = reader.frame("SELECT DISTINCT tag_key FROM daily_tag_spend WHERE date BETWEEN $start AND $end "
                        "ORDER BY tag_key", {"start": start, "end": end})
    return tuple(rows["tag_key"])


def tag_values(reader: Reader, key: str, start: date, end: date, limit: int = 500) -> pd.DataFrame:
    """The values of tag ``key`` in the range with their cost rows, most used first: columns value, rows."""
    return reader.frame(
        """
        SELECT tag_value AS value, sum(rows)::BIGINT AS rows FROM daily_tag_spend
        WHERE tag_key = $key AND date BETWEEN $start AND $end
        GROUP BY tag_value ORDER BY rows DESC, value LIMIT $limit
        """,
        {"key": key, "start": start, "end": end, "limit": limit},
    )
