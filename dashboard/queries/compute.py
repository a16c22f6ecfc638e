"""The AI-compute share (the Overview's "AI compute" section): compute spend per class (GPU, TPU, CPU, Other
compute, Unclassified) in the reporting currency.

Every query reads ``daily_compute_class`` (a rollup the loader and the Google catalog refresh keep current, see
``etl/billing/compute_rollup.py``), converted with the same rate lookup as the rest of the Overview,
``fx_rates_into(currency, max_age_days := N)``; amounts without a usable rate are left out (the page's
unconverted-amounts warning lists them). The filters of :class:`dashboard.queries.spend.SpendFilter` apply except
the tag filter (the rollup has no tags), which the section declines. The AI share is GPU + TPU over all compute
spend, Unclassified included (it is compute no rule recognises, so it stays in the denominator).
"""

from __future__ import annotations

import pandas as pd

from dashboard.queries.reader import Reader
from dashboard.queries.spend import GRAINS, MEASURES, SpendFilter
from etl.billing.compute_rollup import AI_CLASSES, CLASSES

CLASS_COLUMNS = {"GPU": "gpu", "TPU": "tpu", "CPU": "cpu", "Other compute": "other_compute",
                 "Unclassified": "unclassified"}
"""Compute class -> its column in :func:`share_by_provider`, in the order the section shows them."""
ALL_PROVIDERS = "All providers"


def compute_relation(flt: SpendFilter) -> tuple[str, dict]:
    """SQL (a SELECT) and its named parameters: the filtered compute spend of the range with columns date, provider,
    compute_class, amount_rep (in the reporting currency; NULL when fx_missing) and fx_missing."""
    if flt.tagged:
        raise ValueError("compute classes have no tag breakdown: clear the tag filter")
    measure = MEASURES[flt.measure]  # from the allow-list, never from user text
    sql = f"""
        SELECT d.date, d.provider, d.compute_class, ss_fx_amount(d.{measure}, r.fx_rate) AS amount_rep, r.fx_missing
        FROM daily_compute_class d JOIN fx_rates_into($cur, max_age_days := $age) r USING (date, currency)
        WHERE d.date BETWEEN $start AND $end
          AND (len($providers::VARCHAR[]) = 0 OR list_contains($providers::VARCHAR[], d.provider))
          AND (len($accounts::VARCHAR[]) = 0 OR list_contains($accounts::VARCHAR[], d.billing_account_id))
          AND (len($categories::VARCHAR[]) = 0 OR list_contains($categories::VARCHAR[], d.service_category))
    """
    params = {"cur": flt.currency.upper(), "age": flt.max_age_days, "start": flt.start, "end": flt.end,
              "providers": list(flt.providers), "accounts": list(flt.accounts), "categories": list(flt.categories)}
    return sql, params


def share_by_provider(reader: Reader, flt: SpendFilter) -> pd.DataFrame:
    """Compute spend of the range per provider and class: columns provider, gpu, tpu, cpu, other_compute,
    unclassified, compute (their sum), ai_share (GPU + TPU over compute; NULL when compute is 0). The last row is
    "All providers" (the totals); providers by compute spend, largest first. Empty without compute spend."""
    sql, params = compute_relation(flt)
    columns = ",\n".join(f"coalesce(sum(amount_rep) FILTER (compute_class = '{name}'), 0)::DOUBLE AS {column}"
                         for name, column in CLASS_COLUMNS.items())
    return reader.frame(
        f"""
        WITH spend AS ({sql})
        SELECT coalesce(provider, '{ALL_PROVIDERS}') AS provider, {columns},
               sum(amount_rep)::DOUBLE AS compute,
               (coalesce(sum(amount_rep) FILTER (list_contains($ai::VARCHAR[], compute_class)), 0)
                / nullif(sum(amount_rep), 0))::DOUBLE AS ai_share
        FROM spend WHERE NOT fx_missing
        GROUP BY ROLLUP (provider)
        HAVING count(*) > 0  -- no total row without compute spend
        ORDER BY grouping(provider), sum(amount_rep) DESC, provider
        """,
        params | {"ai": list(AI_CLASSES)},
    )


def class_over_time(reader: Reader, flt: SpendFilter, grain: str = "month") -> pd.DataFrame:
    """Compute spend per period (``day``, ``week`` from Monday, ``month``), provider and class: columns period,
    provider, compute_class, amount (reporting currency); classes in :data:`CLASSES` order."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    sql, params = compute_relation(flt)
    return reader.frame(
        f"""
        WITH spend AS ({sql}),
        agg AS (
            SELECT date_trunc('{grain}', date)::DATE AS period, provider, compute_class, sum(amount_rep) AS amount
            FROM spend WHERE NOT fx_missing GROUP BY ALL
        )
        SELECT period, provider, compute_class, amount::DOUBLE AS amount
        FROM agg
        ORDER BY period, provider, list_position($classes::VARCHAR[], compute_class)
        """,
        params | {"classes": list(CLASSES)},
    )


def synthetic_catalog(reader: Reader) -> bool:
    """Whether Google Cloud's classes come from the demo's SYNTHETIC pricing catalog (etl/demo/catalog.py)."""
    [synthetic] = reader.row("SELECT EXISTS (SELECT 1 FROM synthetic_loads WHERE kind = 'gcp_catalog')")
    return bool(synthetic)
