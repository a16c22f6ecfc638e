-- 0005: health a cron monitor can trust.
-- (1) Failed loads a user dismissed (`python -m etl loads dismiss LOAD_ID`): who and when, so a failure stays
--     open (view `load_failures`) until a later successful load of its source, or this row.
-- (2) Freshness by data: the daily rollup keeps the latest ChargePeriodEnd of its rows, so the billing feeds'
--     freshness (view `billing_freshness`) never scans cost_line. A charge longer than a day (a monthly fee
--     whose period ends next month) counts to the end of its first day, so it cannot make a feed look fresh.
CREATE TABLE load_dismissals (
    load_id      BIGINT PRIMARY KEY,          -- a failed row of load_log
    dismissed_by VARCHAR NOT NULL,
    dismissed_at TIMESTAMP NOT NULL,          -- UTC
    reason       VARCHAR
);

ALTER TABLE daily_spend_rollup ADD COLUMN charge_period_end TIMESTAMP;

UPDATE daily_spend_rollup r SET charge_period_end = c.charge_period_end
FROM (SELECT ServiceProviderName AS provider, BillingAccountId AS account, CAST(ChargePeriodStart AS DATE) AS date,
             max(least(ChargePeriodEnd, CAST(ChargePeriodStart AS DATE) + INTERVAL 1 DAY)) AS charge_period_end
      FROM cost_line GROUP BY ALL) c
WHERE r.provider = c.provider AND r.billing_account_id = c.account AND r.date = c.date;
