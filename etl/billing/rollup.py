"""The daily rollups behind the ``daily_spend`` and ``daily_tag_spend`` views, kept current for every
provider/account/date a write touched.

Besides the sums, each daily rollup row keeps the latest ``ChargePeriodEnd`` of its rows (a charge longer than a day
counted to the end of its first day), which the billing feeds' freshness reads (view ``billing_freshness``). The tag
rollup (``daily_tag_rollup``, :func:`refresh_tags`) has the same grain and sums per tag key and value, so a tag filter
never reads the cost rows' ``Tags``; the compute-class rollup (``daily_compute_rollup``,
:mod:`etl.billing.compute_rollup`) sums the compute rows per class for the AI-compute share. The monthly
commitment rollup (``commitment_month_rollup``, :func:`refresh_commitments`) keeps the rows behind the
``commitment_utilization`` and ``commitment_coverage`` views.

Every change to ``cost_line`` marks the (provider, billing account, UTC charge date) keys it touched in a temporary
table of the write session (:func:`mark_touched`: rows inserted, rows replaced, rows an adapter's ``after_load``
step changed, rows the demo's removal deleted); :func:`refresh` then recomputes the rows of the rollups of exactly
those keys (the commitment rollup: of their months) in one transaction, so the rollups cost what a load touched,
not what the warehouse holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from etl.billing import compute_rollup

if TYPE_CHECKING:
    from etl.warehouse import WriteSession

TOUCHED = "rollup_touched"


def start(con: duckdb.DuckDBPyConnection) -> None:
    """Begin tracking the keys a write session touches (an empty temporary table)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (provider VARCHAR, account VARCHAR, date DATE)")


def mark_touched(con: duckdb.DuckDBPyConnection, select: str, params: list | None = None) -> None:
    """Record the keys ``select`` yields: (provider, billing account, date) rows of cost lines that changed."""
    con.execute(f"INSERT INTO {TOUCHED} {select}", params or [])


def mark_units(con: duckdb.DuckDBPyConnection, units: str) -> None:
    """Record the keys of every cost row in the replace units listed in the temporary table ``units`` (column
    ``replace_key``): the rows a load inserted and the rows it replaces, before the replaced ones are deleted."""
    mark_touched(con, f"""
        SELECT DISTINCT ServiceProviderName, BillingAccountId, CAST(ChargePeriodStart AS DATE)
        FROM cost_line WHERE x_ReplaceKey IN (SELECT replace_key FROM {units})
        """)


def refresh(session: WriteSession) -> int:
    """Recompute the rollup rows of every key marked since :func:`start`; returns how many keys."""
    con = session.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_keys AS SELECT DISTINCT * FROM {TOUCHED}")
    # fetchall, not fetchone: a result left unfinished makes DuckDB refuse the next register() on the connection,
    # which the next job of the same write session (storing prices in `etl run`) does
    [(keys,)] = con.execute("SELECT count(*) FROM rollup_keys").fetchall()
    if not keys:
        return 0
    with session.transaction():
        con.execute(
            """
            DELETE FROM daily_spend_rollup r USING rollup_keys t
            WHERE r.provider = t.provider AND r.billing_account_id = t.account AND r.date = t.date
            """
        )
        con.execute(
            """
            INSERT INTO daily_spend_rollup
            SELECT CAST(c.ChargePeriodStart AS DATE), c.ServiceProviderName, c.BillingAccountId,
                   any_value(c.BillingAccountName), c.SubAccountId, any_value(c.SubAccountName),
                   c.ServiceCategory, c.ServiceName, c.ChargeCategory, c.BillingCurrency,
                   sum(c.BilledCost), sum(c.EffectiveCost), sum(c.ListCost), count(*),
                   max(least(c.ChargePeriodEnd, CAST(c.ChargePeriodStart AS DATE) + INTERVAL 1 DAY))
            FROM cost_line c
            JOIN rollup_keys t ON c.ServiceProviderName = t.provider AND c.BillingAccountId = t.account
                              AND CAST(c.ChargePeriodStart AS DATE) = t.date
            GROUP BY CAST(c.ChargePeriodStart AS DATE), c.ServiceProviderName, c.BillingAccountId, c.SubAccountId,
                     c.ServiceCategory, c.ServiceName, c.ChargeCategory, c.BillingCurrency
            """
        )
        refresh_tags(con)
        refresh_commitments(con)
        compute_rollup.refresh(con)
    con.execute(f"DELETE FROM {TOUCHED}")
    return keys


def refresh_tags(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the tag rollup rows of the keys in ``rollup_keys``, inside the caller's transaction.

    A cost row counts once under each top-level key of its ``Tags`` object whose value is not null, with the value
    as text (``json_extract_string``). Tags has few distinct values (tag sets) compared with rows, so the cost rows
    are summed per tag set first and each distinct set's JSON is parsed once (migration 0007 backfills the same
    way)."""
    con.execute(
        """
        DELETE FROM daily_tag_rollup r USING rollup_keys t
        WHERE r.provider = t.provider AND r.billing_account_id = t.account AND r.date = t.date
        """
    )
    con.execute(
        """
        INSERT INTO daily_tag_rollup
        WITH grouped AS (
            SELECT CAST(c.ChargePeriodStart AS DATE) AS date, c.ServiceProviderName AS provider,
                   c.BillingAccountId AS billing_account_id, any_value(c.BillingAccountName) AS billing_account_name,
                   c.SubAccountId AS sub_account_id, any_value(c.SubAccountName) AS sub_account_name,
                   c.ServiceCategory AS service_category, c.ServiceName AS service_name,
                   c.ChargeCategory AS charge_category, c.BillingCurrency AS currency, c.Tags,
                   sum(c.BilledCost) AS billed_cost, sum(c.EffectiveCost) AS effective_cost,
                   sum(c.ListCost) AS list_cost, count(*) AS rows
            FROM cost_line c
            JOIN rollup_keys t ON c.ServiceProviderName = t.provider AND c.BillingAccountId = t.account
                              AND CAST(c.ChargePeriodStart AS DATE) = t.date
            WHERE c.Tags IS NOT NULL
            GROUP BY CAST(c.ChargePeriodStart AS DATE), c.ServiceProviderName, c.BillingAccountId, c.SubAccountId,
                     c.ServiceCategory, c.ServiceName, c.ChargeCategory, c.BillingCurrency, c.Tags
        ), pairs AS (
            SELECT s.Tags, e.key AS tag_key, json_extract_string(e.value, '$') AS tag_value
            FROM (SELECT DISTINCT Tags FROM grouped WHERE json_type(Tags) = 'OBJECT') s, json_each(s.Tags) e
        )
        SELECT date, provider, billing_account_id, any_value(billing_account_name), sub_account_id,
               any_value(sub_account_name), service_category, service_name, charge_category, currency, tag_key,
               tag_value, sum(billed_cost), sum(effective_cost), sum(list_cost), sum(rows)
        FROM grouped JOIN pairs USING (Tags)
        WHERE tag_value IS NOT NULL
        GROUP BY date, provider, billing_account_id, sub_account_id, service_category, service_name, charge_category,
                 currency, tag_key, tag_value
        """
    )


def refresh_commitments(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the commitment rollup rows of the (provider, billing account, UTC month) of every key in
    ``rollup_keys``, inside the caller's transaction.

    The grain is a month, so a touched day recomputes its whole month for that account: the rows carrying a
    commitment and the commitment-eligible ones (macro ``ss_commitment_eligible``, migration 0009, which backfills
    the same way)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE commitment_keys AS
        SELECT DISTINCT provider, account, CAST(date_trunc('month', date) AS DATE) AS month FROM rollup_keys
        """
    )
    con.execute(
        """
        DELETE FROM commitment_month_rollup r USING commitment_keys t
        WHERE r.provider = t.provider AND r.billing_account_id = t.account AND r.month = t.month
        """
    )
    con.execute(
        """
        INSERT INTO commitment_month_rollup
        SELECT month, provider, billing_account_id, currency, source_format, commitment_id,
               any_value(commitment_type), any_value(commitment_category), max(commitment_name), status,
               charge_category, eligible, sum(billed_cost), sum(effective_cost), sum(list_cost), sum(rows)
        FROM (
            SELECT t.month, c.ServiceProviderName AS provider, c.BillingAccountId AS billing_account_id,
                   c.BillingCurrency AS currency, c.x_SourceFormat AS source_format,
                   c.CommitmentDiscountId AS commitment_id, c.CommitmentDiscountType AS commitment_type,
                   c.CommitmentDiscountCategory AS commitment_category, c.CommitmentDiscountName AS commitment_name,
                   c.CommitmentDiscountStatus AS status, c.ChargeCategory AS charge_category,
                   ss_commitment_eligible(c.ChargeCategory, c.ServiceCategory, c.PricingCategory,
                                          c.CommitmentDiscountId, c.CommitmentDiscountStatus) AS eligible,
                   c.BilledCost AS billed_cost, c.EffectiveCost AS effective_cost, c.ListCost AS list_cost,
                   1 AS rows
            FROM cost_line c
            JOIN commitment_keys t ON c.ServiceProviderName = t.provider AND c.BillingAccountId = t.account
                                  AND c.ChargePeriodStart >= t.month
                                  AND c.ChargePeriodStart < t.month + INTERVAL 1 MONTH
            WHERE c.CommitmentDiscountId IS NOT NULL
               OR ss_commitment_eligible(c.ChargeCategory, c.ServiceCategory, c.PricingCategory,
                                         c.CommitmentDiscountId, c.CommitmentDiscountStatus)
        )
        GROUP BY month, provider, billing_account_id, currency, source_format, commitment_id, status,
                 charge_category, eligible
        """
    )
