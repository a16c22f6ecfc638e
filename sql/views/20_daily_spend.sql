-- Spend per UTC charge date, provider, billing account, service and currency. Backed by a rollup the
-- loader keeps current, so it is cheap to query. Amounts are in `currency`; never add rows of
-- different currencies together. Google Cloud names missing from the export come from the Cloud Billing API
-- (as in `cost`).
CREATE OR REPLACE VIEW daily_spend AS
SELECT
    d.date, d.provider, d.service_category, d.service_name, d.billing_account_id,
    coalesce(d.billing_account_name, ga.display_name) AS billing_account_name,
    d.sub_account_id, coalesce(d.sub_account_name, gp.project_id) AS sub_account_name, d.charge_category,
    d.currency, d.billed_cost, d.effective_cost, d.list_cost, d.rows
FROM daily_spend_rollup d
LEFT JOIN gcp_billing_accounts ga ON d.provider = 'Google Cloud' AND ga.billing_account_id = d.billing_account_id
LEFT JOIN gcp_projects gp ON d.provider = 'Google Cloud' AND gp.project_id = d.sub_account_id;
