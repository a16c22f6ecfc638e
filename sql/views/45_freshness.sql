-- Freshness by data of every billing feed (provider and billing account), read from the daily rollup:
-- `data_until` is the latest ChargePeriodEnd loaded (a charge longer than a day counted to the end of its first
-- day), `last_load` the last successful load that covered the account. `status` and the Data health page compare
-- `data_until` with now and the expected delivery lag (settings freshness.billing_lag_days, ..._by_provider).
CREATE OR REPLACE VIEW billing_freshness AS
WITH loads AS (
    SELECT u.s.provider AS provider, u.s.account AS account, max(l.finished_at) AS last_load
    FROM load_log l, unnest(l.scope) AS u(s)
    WHERE l.kind = 'billing' AND l.status IN ('loaded', 'unchanged')
    GROUP BY ALL
), data AS (
    SELECT provider, billing_account_id AS account, any_value(billing_account_name) AS account_name,
           min(date) AS first_day, max(date) AS last_day, max(charge_period_end) AS data_until,
           sum(rows)::BIGINT AS rows
    FROM daily_spend_rollup GROUP BY ALL
)
SELECT d.provider, d.account, d.account_name, d.first_day, d.last_day, d.data_until, d.rows, l.last_load
FROM data d LEFT JOIN loads l USING (provider, account);
