"""ListCost of Google Cloud rows whose export had none, from the pricing catalog's tiered list prices.

A row qualifies when its export carried no list cost (``x_ListCostSource = 'cost'``: the adapter then set ListCost
to the cost), its ``SkuId`` is in ``gcp_sku_tiers`` with a price in the row's own ``BillingCurrency`` (a price in
another currency is never used: no conversion, no adding of currencies) and it has a ``PricingQuantity`` (usage in
the SKU's pricing unit, the catalog's ``usage_unit``). Tiers are graduated over the usage the SKU's
``aggregation_info`` names: per billing account (or per project) and per billing period (or per day). The rows are
accumulated in charge order, and each row's usage is priced by the tiers its part of the running total falls in
(the first units free, the rest at the next tier's price...).
Rows filled before are recomputed, so a changed price or a late row of the month is reflected. Filled rows get
``x_ListCostSource = 'catalog'``; the daily rollup of the days they belong to is recomputed.
"""

from __future__ import annotations

import logging

from etl.billing import rollup
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

_PRICED = """
    WITH usage AS (
        SELECT c.rowid AS rid, c.SkuId, c.BillingCurrency, c.ListCost, c.x_ListCostSource,
               c.PricingQuantity AS quantity,
               sum(c.PricingQuantity) OVER (
                   PARTITION BY c.BillingAccountId, c.SkuId,
                                CASE WHEN s.aggregation_level = 'PROJECT' THEN c.SubAccountId END,
                                CASE WHEN s.aggregation_interval = 'DAILY' THEN CAST(c.ChargePeriodStart AS DATE)
                                     ELSE CAST(c.BillingPeriodStart AS DATE) END
                   ORDER BY c.ChargePeriodStart, c.x_SourceFile, c.x_SourceLine ROWS UNBOUNDED PRECEDING) AS upto
        FROM cost_line c JOIN gcp_sku_catalog s ON s.sku_id = c.SkuId
        WHERE c.ServiceProviderName = 'Google Cloud' AND c.x_ListCostSource IN ('cost', 'catalog')
          AND c.PricingQuantity IS NOT NULL
    ),
    tiers AS (
        SELECT sku_id, currency, unit_price, start_usage_amount AS tier_start,
               lead(start_usage_amount) OVER (PARTITION BY sku_id, currency ORDER BY tier) AS tier_end
        FROM gcp_sku_tiers
    ),
    priced AS (
        SELECT u.rid, any_value(u.ListCost) AS old_cost, any_value(u.x_ListCostSource) AS source,
               CAST(sum(greatest(0, least(u.upto, coalesce(t.tier_end, u.upto))
                                    - greatest(u.upto - u.quantity, t.tier_start)) * t.unit_price)
                    AS DECIMAL(38, 12)) AS list_cost
        FROM usage u JOIN tiers t ON t.sku_id = u.SkuId AND t.currency = u.BillingCurrency
        GROUP BY u.rid
    )
    SELECT rid, list_cost FROM priced WHERE source = 'cost' OR list_cost <> old_cost
"""


def fill(session: WriteSession) -> int:
    """Fill (or recompute) the qualifying rows' ListCost in one transaction; returns how many rows changed."""
    con = session.con
    rollup.start(con)
    with session.transaction():
        con.execute(f"CREATE OR REPLACE TEMP TABLE list_cost_fill AS {_PRICED}")
        [(changed,)] = con.execute("SELECT count(*) FROM list_cost_fill").fetchall()
        if changed:
            rollup.mark_touched(con, """
                SELECT DISTINCT ServiceProviderName, BillingAccountId, CAST(ChargePeriodStart AS DATE)
                FROM cost_line WHERE rowid IN (SELECT rid FROM list_cost_fill)
                """)
            con.execute("""
                UPDATE cost_line SET ListCost = f.list_cost, x_ListCostSource = 'catalog'
                FROM list_cost_fill f WHERE cost_line.rowid = f.rid
                """)
        con.execute("DROP TABLE list_cost_fill")
    if changed:
        rollup.refresh(session)
    log.info("ListCost from the catalog's list prices: %d Google Cloud rows filled or updated", changed)
    return changed
