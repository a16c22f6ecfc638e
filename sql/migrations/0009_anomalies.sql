-- 0009: spend anomalies (issue 14), written by `python -m etl anomalies run` and the `anomalies` step of `run`
-- (etl/finops/anomalies.py). A run replaces the anomalies from the first day it flags on and keeps older ones.

CREATE TABLE spend_anomalies (
    date        DATE NOT NULL,
    level       VARCHAR NOT NULL CHECK (level IN ('total', 'provider', 'service', 'account')),
    basis       VARCHAR NOT NULL CHECK (basis IN ('billing', 'reporting')),
    currency    VARCHAR NOT NULL,         -- the billing currency (basis billing) or the reporting currency
    provider    VARCHAR NOT NULL,         -- '' for level total
    member      VARCHAR NOT NULL,         -- service name or billing account id; '' for levels total and provider
    member_name VARCHAR,                  -- the billing account's name (the service name for level service)
    measure     VARCHAR NOT NULL,         -- effective_cost, billed_cost or list_cost
    expected    DOUBLE NOT NULL,          -- trend + weekly seasonal (robust STL)
    lower       DOUBLE NOT NULL,          -- expected - z_low x robust scale
    upper       DOUBLE NOT NULL,          -- expected + z_low x robust scale
    actual      DOUBLE NOT NULL,
    excess      DOUBLE NOT NULL,          -- actual - upper (> 0: only rises are anomalies)
    excess_pct  DOUBLE,                   -- (actual - expected) / |expected| in %; NULL when expected is 0
    z           DOUBLE NOT NULL,          -- (actual - expected) / robust scale (1.4826 x MAD of the residuals)
    severity    VARCHAR NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    method      VARCHAR NOT NULL,
    run_id      BIGINT NOT NULL,
    PRIMARY KEY (date, level, basis, currency, provider, member)
);

-- One row per anomaly run: when, on which data, with which settings, what was scored and found.
CREATE TABLE anomaly_runs (
    run_id           BIGINT PRIMARY KEY,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL,
    measure          VARCHAR NOT NULL,
    reporting_currency VARCHAR NOT NULL,
    z                DOUBLE[] NOT NULL,   -- low, medium, high
    min_history_days INTEGER NOT NULL,
    min_excess       DOUBLE NOT NULL,
    min_excess_pct   DOUBLE NOT NULL,
    window_start     DATE,                -- first day flagged (NULL: no spend loaded)
    data_until       DATE,                -- latest day of spend
    series_scored    INTEGER NOT NULL,
    series_skipped   INTEGER NOT NULL,    -- fewer than min_history_days days with a value
    days_scored      BIGINT NOT NULL,     -- series x days of the window with a value
    anomalies        INTEGER NOT NULL,
    low              INTEGER NOT NULL,
    medium           INTEGER NOT NULL,
    high             INTEGER NOT NULL
);
