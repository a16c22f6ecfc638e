-- 0007: a daily rollup per tag key and value, so a tag filter never reads the cost rows' Tags. The grain and
-- measures of daily_spend_rollup plus (tag_key, tag_value): a cost row counts once under each top-level key of its
-- Tags object whose value is not null (the value as text: json_extract_string). Amounts of different keys overlap,
-- so only sum rows of one key. The loader keeps it current with daily_spend_rollup, in the same transaction
-- (etl/billing/rollup.py, refresh_tags); this backfills the rows already loaded, as refresh_tags does for the
-- days a load touches.
CREATE OR REPLACE TABLE daily_tag_rollup (  -- OR REPLACE: re-running this migration rebuilds it
    date                 DATE NOT NULL,
    provider             VARCHAR NOT NULL,
    billing_account_id   VARCHAR NOT NULL,
    billing_account_name VARCHAR,
    sub_account_id       VARCHAR,
    sub_account_name     VARCHAR,
    service_category     VARCHAR NOT NULL,
    service_name         VARCHAR NOT NULL,
    charge_category      VARCHAR NOT NULL,
    currency             VARCHAR NOT NULL,
    tag_key              VARCHAR NOT NULL,
    tag_value            VARCHAR NOT NULL,
    billed_cost          DECIMAL(38, 12) NOT NULL,
    effective_cost       DECIMAL(38, 12) NOT NULL,
    list_cost            DECIMAL(38, 12) NOT NULL,
    rows                 BIGINT NOT NULL
);

INSERT INTO daily_tag_rollup
WITH grouped AS (
    SELECT CAST(ChargePeriodStart AS DATE) AS date, ServiceProviderName AS provider,
           BillingAccountId AS billing_account_id, any_value(BillingAccountName) AS billing_account_name,
           SubAccountId AS sub_account_id, any_value(SubAccountName) AS sub_account_name,
           ServiceCategory AS service_category, ServiceName AS service_name, ChargeCategory AS charge_category,
           BillingCurrency AS currency, Tags, sum(BilledCost) AS billed_cost, sum(EffectiveCost) AS effective_cost,
           sum(ListCost) AS list_cost, count(*) AS rows
    FROM cost_line WHERE Tags IS NOT NULL
    GROUP BY date, provider, billing_account_id, sub_account_id, service_category, service_name, charge_category,
             currency, Tags
), pairs AS (
    SELECT s.Tags, e.key AS tag_key, json_extract_string(e.value, '$') AS tag_value
    FROM (SELECT DISTINCT Tags FROM grouped WHERE json_type(Tags) = 'OBJECT') s, json_each(s.Tags) e
)
SELECT date, provider, billing_account_id, any_value(billing_account_name), sub_account_id, any_value(sub_account_name),
       service_category, service_name, charge_category, currency, tag_key, tag_value,
       sum(billed_cost), sum(effective_cost), sum(list_cost), sum(rows)
FROM grouped JOIN pairs USING (Tags)
WHERE tag_value IS NOT NULL
GROUP BY date, provider, billing_account_id, sub_account_id, service_category, service_name, charge_category, currency,
         tag_key, tag_value;
