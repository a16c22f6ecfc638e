-- 0009: month- and quarter-end spend forecasts, their daily paths, the rolling-origin backtest, and budget status
-- (issue 14). Every table is rewritten whole by the ETL steps `forecasts` and `budgets` (etl/finops).

CREATE TABLE forecasts (
    level VARCHAR NOT NULL,         -- total or provider
    basis VARCHAR NOT NULL,         -- reporting (converted) or billing (one billing currency)
    currency VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,      -- '' for the total
    measure VARCHAR NOT NULL,       -- effective_cost, billed_cost or list_cost
    period VARCHAR NOT NULL,        -- month or quarter
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    as_of DATE NOT NULL,            -- last complete day of the series' data
    actual_to_date DOUBLE NOT NULL, -- period_start .. as_of
    forecast_remaining DOUBLE NOT NULL,
    forecast_total DOUBLE NOT NULL, -- actual_to_date + forecast_remaining
    lower_80 DOUBLE NOT NULL,
    upper_80 DOUBLE NOT NULL,
    lower_95 DOUBLE NOT NULL,
    upper_95 DOUBLE NOT NULL,
    method VARCHAR NOT NULL,
    fitted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (level, basis, currency, provider, period)
);

CREATE TABLE forecast_paths (
    level VARCHAR NOT NULL,
    basis VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    date DATE NOT NULL,
    mean DOUBLE NOT NULL,
    lower_80 DOUBLE NOT NULL,
    upper_80 DOUBLE NOT NULL,
    lower_95 DOUBLE NOT NULL,
    upper_95 DOUBLE NOT NULL,
    PRIMARY KEY (level, basis, currency, provider, date)
);

CREATE TABLE forecast_backtests (
    level VARCHAR NOT NULL,
    basis VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    measure VARCHAR NOT NULL,
    origin DATE NOT NULL,           -- first day of the month forecast from the data before it
    forecast DOUBLE NOT NULL,
    actual DOUBLE NOT NULL,
    ape DOUBLE,                     -- |forecast - actual| / |actual|; NULL when actual is 0
    PRIMARY KEY (level, basis, currency, provider, origin)
);

CREATE TABLE budget_status (
    budget VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,         -- total, provider, service_category or billing_account
    scope_value VARCHAR NOT NULL,   -- '' for total
    period VARCHAR NOT NULL,        -- monthly or quarterly
    period_label VARCHAR NOT NULL,  -- 2025-12 or 2025-Q4
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    as_of DATE NOT NULL,
    currency VARCHAR NOT NULL,
    amount DOUBLE NOT NULL,
    actual DOUBLE NOT NULL,
    forecast DOUBLE NOT NULL,
    forecast_lower_80 DOUBLE NOT NULL,
    forecast_upper_80 DOUBLE NOT NULL,
    actual_pct DOUBLE NOT NULL,
    forecast_pct DOUBLE NOT NULL,
    thresholds DOUBLE[] NOT NULL,
    actual_crossed DOUBLE,          -- highest threshold (in %) the actual reached, NULL for none
    forecast_crossed DOUBLE,        -- highest threshold the forecast reached
    forecast_method VARCHAR NOT NULL,
    evaluated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (budget)
);
