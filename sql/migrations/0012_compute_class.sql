-- 0009: a daily rollup per compute class (GPU, TPU, CPU, Other compute, Unclassified), so the dashboard's AI-compute
-- share never reads cost rows. Grain: date, provider, billing account, service category, currency and class; the
-- measures of daily_spend_rollup. Only compute rows are in it (the rules in sql/views/62_compute_class.sql). The
-- loader keeps it current with daily_spend_rollup in the same transaction and the Google Cloud catalog refresh
-- reclassifies Google's rows (etl/billing/compute_rollup.py); the rows already loaded are backfilled right after
-- this migration, once the views that hold the rules exist (etl.warehouse.upgrade_schema).
CREATE OR REPLACE TABLE daily_compute_rollup (  -- OR REPLACE: re-running this migration rebuilds it
    date               DATE NOT NULL,
    provider           VARCHAR NOT NULL,
    billing_account_id VARCHAR NOT NULL,
    service_category   VARCHAR NOT NULL,
    currency           VARCHAR NOT NULL,
    compute_class      VARCHAR NOT NULL,
    billed_cost        DECIMAL(38, 12) NOT NULL,
    effective_cost     DECIMAL(38, 12) NOT NULL,
    list_cost          DECIMAL(38, 12) NOT NULL,
    rows               BIGINT NOT NULL
);
