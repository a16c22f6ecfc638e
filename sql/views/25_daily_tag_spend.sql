-- Spend per UTC charge date, provider, billing account, service and currency, per tag key and value: a cost row
-- counts once under each key of its Tags (the value as text; a null value is left out). Backed by a rollup the
-- loader keeps current with daily_spend's, so a tag filter is as cheap as the other filters. Sum rows of one
-- tag_key only (a row is in every key it has), and never rows of different currencies.
CREATE OR REPLACE VIEW daily_tag_spend AS
SELECT
    date, provider, service_category, service_name, billing_account_id, billing_account_name,
    sub_account_id, sub_account_name, charge_category, currency, tag_key, tag_value,
    billed_cost, effective_cost, list_cost, rows
FROM daily_tag_rollup;
