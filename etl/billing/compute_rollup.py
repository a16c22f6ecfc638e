"""The daily rollup per compute class behind the ``daily_compute_class`` view (the dashboard's AI-compute share).

Its rows follow the cost rows the same way as the daily rollups: :func:`etl.billing.rollup.refresh` calls
:func:`refresh` in its transaction for the (provider, billing account, date) keys a write touched (loads, replaced
units, an adapter's after-load step, the demo's removal, list costs filled from the catalog). Google Cloud's classes
come from the pricing catalog, so a catalog refresh reclassifies every Google key (:func:`reclassify`), and the
migration that creates the table is followed by :func:`backfill` (every key) once the views holding the rules exist.

The rules are the macro ``ss_compute_class`` (``sql/views/62_compute_class.sql``). Cost rows are summed per
distinct (service, SKU, description) first, so each rule runs once per distinct value, not once per row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from etl.warehouse import WriteSession

log = logging.getLogger(__name__)

MIGRATION = "compute_class"  # the migration creating daily_compute_rollup, backfilled by :func:`backfill`
CLASSES = ("GPU", "TPU", "CPU", "Other compute", "Unclassified")
AI_CLASSES = ("GPU", "TPU")


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the compute-class rollup rows of the keys in ``rollup_keys``, inside the caller's transaction."""
    con.execute(
        """
        DELETE FROM daily_compute_rollup r USING rollup_keys t
        WHERE r.provider = t.provider AND r.billing_account_id = t.account AND r.date = t.date
        """
    )
    con.execute(
        """
        INSERT INTO daily_compute_rollup
        WITH grouped AS (
            SELECT CAST(c.ChargePeriodStart AS DATE) AS date, c.ServiceProviderName AS provider,
                   c.BillingAccountId AS billing_account_id, c.ServiceCategory AS service_category,
                   c.ServiceName AS service_name, c.SkuId AS sku_id, c.ChargeDescription AS description,
                   c.BillingCurrency AS currency, sum(c.BilledCost) AS billed_cost,
                   sum(c.EffectiveCost) AS effective_cost, sum(c.ListCost) AS list_cost, count(*) AS rows
            FROM cost_line c
            JOIN rollup_keys t ON c.ServiceProviderName = t.provider AND c.BillingAccountId = t.account
                              AND CAST(c.ChargePeriodStart AS DATE) = t.date
            GROUP BY ALL
        ), classed AS (
            SELECT g.*, ss_compute_class(g.provider, g.service_category, g.service_name, g.sku_id, g.description,
                                         k.compute_class) AS compute_class
            FROM grouped g
            LEFT JOIN gcp_sku_compute_class k ON g.provider = 'Google Cloud' AND k.sku_id = g.sku_id
        )
        SELECT date, provider, billing_account_id, service_category, currency, compute_class,
               sum(billed_cost), sum(effective_cost), sum(list_cost), sum(rows)
        FROM classed WHERE compute_class IS NOT NULL
        GROUP BY date, provider, billing_account_id, service_category, currency, compute_class
        """
    )


def rebuild(session: WriteSession, provider: str | None = None) -> int:
    """Recompute every key of ``provider`` (all providers when None) in one transaction; returns how many keys."""
    con = session.con
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE rollup_keys AS
        SELECT DISTINCT provider, billing_account_id AS account, date FROM daily_spend_rollup
        WHERE $provider IS NULL OR provider = $provider
        """,
        {"provider": provider},
    )
    [(keys,)] = con.execute("SELECT count(*) FROM rollup_keys").fetchall()
    with session.transaction():
        refresh(con)
    return keys


def reclassify(session: WriteSession) -> int:
    """Google Cloud's rows classified again after a catalog refresh (a new or changed SKU changes classes)."""
    keys = rebuild(session, "Google Cloud")
    log.info("compute classes of Google Cloud recomputed from the catalog: %d account days", keys)
    return keys


def backfill(session: WriteSession) -> None:
    """Classify every key already loaded (after the migration creating the rollup)."""
    keys = rebuild(session)
    log.info("compute-class rollup backfilled: %d account days", keys)
