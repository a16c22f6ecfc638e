-- The analysts' contract: one row per cost line of every provider, FOCUS 1.2 column names.
-- Costs are DECIMAL(38,12) in BillingCurrency (never mix currencies in a SUM without grouping by it);
-- timestamps are UTC; Tags is a JSON object; x_* columns say where each row came from.
CREATE OR REPLACE VIEW cost AS
SELECT
    BillingAccountId, BillingAccountName, SubAccountId, SubAccountName, BillingCurrency,
    BillingPeriodStart, BillingPeriodEnd, ChargePeriodStart, ChargePeriodEnd,
    ChargeCategory, ChargeClass, ChargeDescription, ChargeFrequency,
    BilledCost, EffectiveCost, ListCost, ContractedCost,
    ServiceProviderName, InvoiceIssuerName, ServiceName, ServiceCategory,
    SkuId, RegionId, RegionName, ResourceId, ResourceName, ResourceType,
    PricingCategory, CommitmentDiscountId, CommitmentDiscountType,
    ConsumedQuantity, ConsumedUnit, PricingQuantity, PricingUnit, Tags,
    x_SourceFormat, x_SourceFile, x_SourceLine, x_LoadId
FROM cost_line;
