-- 0002: market data. Daily prices of the providers' listed parents and of benchmarks, FX rates, and the
-- reporting settings the conversion views read. Written only by `python -m etl prices ...` / `fx ...`.

-- One row per ticker and session of its listing exchange. Prices are DOUBLE: market data for returns,
-- not money to reconcile.
CREATE TABLE prices (
    ticker       VARCHAR NOT NULL,    -- Yahoo Finance symbol: MSFT, 9984.T, ^GSPC
    date         DATE NOT NULL,       -- session date, exchange-local (not UTC)
    open         DOUBLE,
    high         DOUBLE,
    low          DOUBLE,
    close        DOUBLE NOT NULL,     -- raw close: split-adjusted, not dividend-adjusted
    adj_close    DOUBLE,              -- total-return close (dividends and splits); NULL when unknown
    volume       BIGINT,
    dividends    DOUBLE,              -- cash dividend going ex on this date; 0 none, NULL unknown
    stock_splits DOUBLE,              -- split ratio effective on this date; 0 none, NULL unknown
    currency     VARCHAR NOT NULL,    -- trading currency (sql/seed/market_listing.csv)
    exchange     VARCHAR NOT NULL,    -- ISO MIC of the calendar the sessions follow: XNYS, XNAS, XTKS
    load_id      BIGINT NOT NULL,     -- the load_log row that last wrote this row
    loaded_at    TIMESTAMP NOT NULL,  -- UTC
    PRIMARY KEY (ticker, date)
);

-- Daily FX closes: `rate` units of quote_currency buy one unit of `currency` (EUR -> USD 1.08).
-- DECIMAL so that converted costs stay exact decimals.
CREATE TABLE fx_rates (
    date           DATE NOT NULL,
    currency       VARCHAR NOT NULL,
    quote_currency VARCHAR NOT NULL,
    rate           DECIMAL(20, 12) NOT NULL,
    source         VARCHAR NOT NULL,  -- e.g. 'yahoo:CADUSD=X'
    load_id        BIGINT NOT NULL,
    loaded_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (currency, quote_currency, date)
);

-- The reporting currency and rate-age limit that `cost_reporting` and `daily_spend_reporting` use, as set
-- by the last `fx fetch` (settings reporting_currency, fx.max_rate_age_days). At most one row; without
-- one the views use USD and 7 days.
CREATE TABLE reporting_settings (
    reporting_currency VARCHAR NOT NULL,
    fx_max_age_days    INTEGER NOT NULL,
    recorded_at        TIMESTAMP NOT NULL
);

-- Provider -> ticker of its listed parent (setting providers.tickers), as of the last prices load.
CREATE TABLE provider_ticker (
    provider VARCHAR PRIMARY KEY,     -- ServiceProviderName
    ticker   VARCHAR NOT NULL
);
