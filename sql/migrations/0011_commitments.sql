-- 0009: FOCUS 1.1 commitment columns and a monthly commitment rollup (etl/billing/rollup.py, refresh_commitments).
--
-- cost_line gains CommitmentDiscountCategory (Spend | Usage), CommitmentDiscountName and CommitmentDiscountStatus
-- (Used | Unused). Rows loaded before this migration get what their stored columns allow: the category from
-- CommitmentDiscountType (a savings plan commits spend, a reservation or RI usage), and the status where the stored
-- columns tell it: AWS (a usage row with a commitment is Used; a recurring purchase row with one, RIFee or
-- SavingsPlanRecurringFee, whose EffectiveCost is the unused commitment, is Unused) and FOCUS files (the rule the
-- adapter applies to a FOCUS 1.0 file: a usage row that consumed nothing is the Unused part). Names, and the status
-- of Azure and Google rows, stay NULL until their month is loaded again.
ALTER TABLE cost_line ADD COLUMN CommitmentDiscountCategory VARCHAR;
ALTER TABLE cost_line ADD COLUMN CommitmentDiscountName VARCHAR;
ALTER TABLE cost_line ADD COLUMN CommitmentDiscountStatus VARCHAR;

UPDATE cost_line SET
    CommitmentDiscountCategory = CASE CommitmentDiscountType WHEN 'Savings Plan' THEN 'Spend'
                                      WHEN 'Reserved Instance' THEN 'Usage' WHEN 'Reservation' THEN 'Usage' END,
    CommitmentDiscountStatus = CASE
        WHEN x_SourceFormat = 'aws' AND ChargeCategory = 'Usage' THEN 'Used'
        WHEN x_SourceFormat = 'aws' AND ChargeCategory = 'Purchase' AND ChargeFrequency = 'Recurring' THEN 'Unused'
        WHEN x_SourceFormat = 'focus' AND ChargeCategory = 'Usage'
             THEN CASE WHEN ConsumedQuantity IS NULL THEN 'Unused' ELSE 'Used' END END
WHERE CommitmentDiscountId IS NOT NULL;

-- Commitment-eligible spend: usage of ServiceCategory Compute priced on demand (PricingCategory Standard, or none
-- given: adapters without a pricing model bill at the provider's standard rates) or by a commitment (Committed, or
-- any row with a CommitmentDiscountId), except the unused commitment itself. Spot (Dynamic) and other pricing are
-- not eligible. Defined here, not in macros.sql, because this migration's backfill needs it (macros are refreshed
-- after migrations); the loader's refresh_commitments uses the same macro.
CREATE OR REPLACE MACRO ss_commitment_eligible(charge_category, service_category, pricing_category, commitment_id,
                                               status) AS
    charge_category = 'Usage' AND service_category = 'Compute' AND coalesce(status, '') <> 'Unused'
    AND (commitment_id IS NOT NULL OR coalesce(pricing_category, 'Standard') IN ('Standard', 'Committed'));

-- One row per UTC charge month, provider, billing account, billing currency, source format, commitment (NULL for
-- eligible spend no commitment covered), status and charge category, over the rows that carry a commitment or are
-- commitment-eligible (ss_commitment_eligible). Small: a few rows per commitment and account a month.
CREATE OR REPLACE TABLE commitment_month_rollup (
    month               DATE NOT NULL,
    provider            VARCHAR NOT NULL,
    billing_account_id  VARCHAR NOT NULL,
    currency            VARCHAR NOT NULL,
    source_format       VARCHAR NOT NULL,
    commitment_id       VARCHAR,
    commitment_type     VARCHAR,
    commitment_category VARCHAR,
    commitment_name     VARCHAR,
    status              VARCHAR,
    charge_category     VARCHAR NOT NULL,
    eligible            BOOLEAN NOT NULL,
    billed_cost         DECIMAL(38, 12) NOT NULL,
    effective_cost      DECIMAL(38, 12) NOT NULL,
    list_cost           DECIMAL(38, 12) NOT NULL,
    rows                BIGINT NOT NULL
);

INSERT INTO commitment_month_rollup
SELECT month, provider, billing_account_id, currency, source_format, commitment_id, any_value(commitment_type),
       any_value(commitment_category), max(commitment_name), status, charge_category, eligible,
       sum(billed_cost), sum(effective_cost), sum(list_cost), sum(rows)
FROM (
    SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month, ServiceProviderName AS provider,
           BillingAccountId AS billing_account_id, BillingCurrency AS currency, x_SourceFormat AS source_format,
           CommitmentDiscountId AS commitment_id, CommitmentDiscountType AS commitment_type,
           CommitmentDiscountCategory AS commitment_category, CommitmentDiscountName AS commitment_name,
           CommitmentDiscountStatus AS status, ChargeCategory AS charge_category,
           ss_commitment_eligible(ChargeCategory, ServiceCategory, PricingCategory, CommitmentDiscountId,
                                  CommitmentDiscountStatus) AS eligible,
           BilledCost AS billed_cost, EffectiveCost AS effective_cost, ListCost AS list_cost, 1 AS rows
    FROM cost_line
    WHERE CommitmentDiscountId IS NOT NULL
       OR ss_commitment_eligible(ChargeCategory, ServiceCategory, PricingCategory, CommitmentDiscountId,
                                 CommitmentDiscountStatus)
)
GROUP BY month, provider, billing_account_id, currency, source_format, commitment_id, status, charge_category,
         eligible;
