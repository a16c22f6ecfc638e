-- Spend per UTC charge date, provider, billing account, service and currency. Backed by a rollup the
-- loader keeps current, so it is cheap to query. Amounts are in `currency`; never add rows of
-- different currencies together.
CREATE OR REPLACE VIEW daily_spend AS
SELECT
    date, provider, service_category, service_name, billing_account_id, billing_account_name,
    sub_account_id, sub_account_name, charge_category, currency,
    billed_cost, effective_cost, list_cost, rows
FROM daily_spend_rollup;
