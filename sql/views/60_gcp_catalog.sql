-- Google Cloud compute SKUs classified from the pricing catalog (table gcp_sku_catalog, `python -m etl gcp
-- catalog`): TPU when the SKU's resource group or description names a TPU, GPU when they name a GPU (or an
-- Nvidia accelerator), CPU for the rest of resource family Compute (vCPUs, memory, sole-tenant nodes);
-- SKUs of other families (storage, network, licences...) are not compute and not listed.
CREATE OR REPLACE VIEW gcp_compute_class AS
SELECT sku_id, service_name, description, resource_family, resource_group, usage_type,
    CASE
        WHEN regexp_matches(coalesce(resource_group, '') || ' ' || coalesce(description, ''), '(?i)\btpu')
            THEN 'TPU'
        WHEN regexp_matches(coalesce(resource_group, '') || ' ' || coalesce(description, ''),
                            '(?i)\bgpu|\bnvidia\b|\btesla\b')
            THEN 'GPU'
        ELSE 'CPU'
    END AS compute_class
FROM gcp_sku_catalog
WHERE resource_family = 'Compute'
   OR regexp_matches(coalesce(resource_group, '') || ' ' || coalesce(description, ''),
                     '(?i)\btpu|\bgpu|\bnvidia\b|\btesla\b');

-- Google Cloud spend per UTC charge date, billing account, currency and compute class (GPU, TPU, CPU) of the
-- SKUs the catalog classifies; amounts in `currency` (never add currencies).
CREATE OR REPLACE VIEW gcp_compute_spend AS
SELECT CAST(c.ChargePeriodStart AS DATE) AS date, c.BillingAccountId AS billing_account_id,
       k.compute_class, c.BillingCurrency AS currency,
       sum(c.BilledCost) AS billed_cost, sum(c.EffectiveCost) AS effective_cost, sum(c.ListCost) AS list_cost,
       count(*) AS rows
FROM cost_line c JOIN gcp_compute_class k ON k.sku_id = c.SkuId
WHERE c.ServiceProviderName = 'Google Cloud'
GROUP BY ALL;
