-- The analysts' contract: one row per cost line of every provider, FOCUS 1.2 column names.
-- Costs are DECIMAL(38,12) in BillingCurrency (never mix currencies in a SUM without grouping by it);
-- timestamps are UTC; Tags is a JSON object; x_* columns say where each row came from.
-- Google Cloud rows whose export lacks BillingAccountName or SubAccountName get the names the Cloud Billing API
-- gave (tables gcp_billing_accounts, gcp_projects: `python -m etl gcp accounts`); x_ListCostSource says where
-- ListCost comes from (NULL: the export; 'cost': the export had none; 'catalog': the SKU's list price).
CREATE OR REPLACE VIEW cost AS
SELECT
    c.BillingAccountId, coalesce(c.BillingAccountName, ga.display_name) AS BillingAccountName,
    c.SubAccountId, coalesce(c.SubAccountName, gp.project_id) AS SubAccountName, c.BillingCurrency,
    c.BillingPeriodStart, c.BillingPeriodEnd, c.ChargePeriodStart, c.ChargePeriodEnd,
    c.ChargeCategory, c.ChargeClass, c.ChargeDescription, c.ChargeFrequency,
    c.BilledCost, c.EffectiveCost, c.ListCost, c.ContractedCost,
    c.ServiceProviderName, c.InvoiceIssuerName, c.ServiceName, c.ServiceCategory,
    c.SkuId, c.RegionId, c.RegionName, c.ResourceId, c.ResourceName, c.ResourceType,
    c.PricingCategory, c.CommitmentDiscountId, c.CommitmentDiscountType, c.CommitmentDiscountCategory,
    c.CommitmentDiscountName, c.CommitmentDiscountStatus,
    c.ConsumedQuantity, c.ConsumedUnit, c.PricingQuantity, c.PricingUnit, c.Tags,
    c.x_SourceFormat, c.x_SourceFile, c.x_SourceLine, c.x_LoadId, c.x_ListCostSource
FROM cost_line c
LEFT JOIN gcp_billing_accounts ga
       ON c.ServiceProviderName = 'Google Cloud' AND ga.billing_account_id = c.BillingAccountId
LEFT JOIN gcp_projects gp
       ON c.ServiceProviderName = 'Google Cloud' AND gp.project_id = c.SubAccountId;
