-- Costs in one reporting currency, next to the amounts in BillingCurrency.
--
-- Rates are stored against USD (fx_rates: `rate` USD buy one unit of `currency`). A cost is converted with
-- the rate of its charge date (the UTC date of ChargePeriodStart; `date` for the daily rollup) or the
-- latest earlier one, never a later one (ASOF JOIN). For a reporting currency other than USD the rate is
-- the cross rate via USD: rate(X->R) = rate(X->USD) / rate(R->USD), each leg looked up the same way,
-- rounded to 12 decimal places. A cost already in the reporting currency uses rate 1 without a lookup.
-- A row whose rate is missing, or older than max_age_days before the charge date, is kept with
-- fx_missing = true, NULL converted amounts and the reason in fx_issue: never a guessed rate.
-- Converted amounts are DECIMAL(38,12), rounded half away from zero.

CREATE OR REPLACE MACRO ss_fx_issue(src, target, charge_date, from_rate, from_date, to_rate, to_date, max_age) AS
    CASE
        WHEN target IS NULL THEN 'no reporting currency'
        WHEN src = target THEN NULL
        WHEN src <> 'USD' AND from_rate IS NULL
            THEN format('no {}/USD rate on or before {}', src, charge_date)
        WHEN target <> 'USD' AND to_rate IS NULL
            THEN format('no {}/USD rate on or before {}', target, charge_date)
        WHEN src <> 'USD' AND from_date < charge_date - CAST(max_age AS INTEGER)
            THEN format('latest {}/USD rate is from {}, more than {} days before {}', src, from_date, max_age,
                        charge_date)
        WHEN target <> 'USD' AND to_date < charge_date - CAST(max_age AS INTEGER)
            THEN format('latest {}/USD rate is from {}, more than {} days before {}', target, to_date, max_age,
                        charge_date)
    END;

CREATE OR REPLACE MACRO ss_fx_rate(src, target, from_rate, to_rate, issue) AS
    CASE
        WHEN issue IS NOT NULL THEN NULL::DECIMAL(20, 12)
        WHEN src = target THEN 1::DECIMAL(20, 12)
        WHEN target = 'USD' THEN from_rate::DECIMAL(20, 12)
        WHEN src = 'USD' THEN CAST(1 / to_rate::DOUBLE AS DECIMAL(20, 12))
        ELSE CAST(from_rate::DOUBLE / to_rate::DOUBLE AS DECIMAL(20, 12))
    END;

CREATE OR REPLACE MACRO ss_fx_method(src, target, rate) AS
    CASE
        WHEN rate IS NULL THEN NULL
        WHEN src = target THEN 'same currency'
        WHEN target = 'USD' THEN 'direct'
        WHEN src = 'USD' THEN 'inverse'
        ELSE 'cross via USD'
    END;

-- The date of the (older) rate used; NULL for the same currency (no lookup) and for missing rates.
CREATE OR REPLACE MACRO ss_fx_rate_date(src, target, rate, from_date, to_date) AS
    CASE
        WHEN rate IS NULL OR src = target THEN NULL::DATE
        ELSE least(CASE WHEN src <> 'USD' THEN from_date END, CASE WHEN target <> 'USD' THEN to_date END)
    END;

-- amount * rate, exact for any realistic amount; beyond 10^13 (where the exact product could overflow
-- DECIMAL(38)) it is computed in floating point.
CREATE OR REPLACE MACRO ss_fx_amount(amount, rate) AS
    CASE
        WHEN rate IS NULL OR amount IS NULL THEN NULL::DECIMAL(38, 12)
        WHEN abs(amount) < 1e13 THEN CAST(amount * rate AS DECIMAL(38, 12))
        ELSE CAST(amount::DOUBLE * rate::DOUBLE AS DECIMAL(38, 12))
    END;

-- Every row of `cost` with its amounts converted to `target` (any currency with a USD rate).
CREATE OR REPLACE MACRO cost_in_currency(target, max_age_days := 7) AS TABLE
    WITH usd AS (SELECT currency, date, rate FROM fx_rates WHERE quote_currency = 'USD'),
    base AS (SELECT *, CAST(ChargePeriodStart AS DATE) AS x_fx_charge_date FROM cost),
    leg_from AS (
        SELECT b.*, f.rate AS x_fx_from_rate, f.date AS x_fx_from_date
        FROM base b ASOF LEFT JOIN usd f ON f.currency = b.BillingCurrency AND f.date <= b.x_fx_charge_date
    ),
    leg_to AS (
        SELECT l.*, t.rate AS x_fx_to_rate, t.date AS x_fx_to_date
        FROM leg_from l ASOF LEFT JOIN usd t ON t.currency = upper(target) AND t.date <= l.x_fx_charge_date
    ),
    judged AS (
        SELECT *, ss_fx_issue(BillingCurrency, upper(target), x_fx_charge_date, x_fx_from_rate, x_fx_from_date,
                              x_fx_to_rate, x_fx_to_date, max_age_days) AS fx_issue
        FROM leg_to
    ),
    rated AS (
        SELECT *, ss_fx_rate(BillingCurrency, upper(target), x_fx_from_rate, x_fx_to_rate, fx_issue) AS fx_rate
        FROM judged
    )
    SELECT * EXCLUDE (x_fx_charge_date, x_fx_from_rate, x_fx_from_date, x_fx_to_rate, x_fx_to_date, fx_issue,
                      fx_rate),
        upper(target) AS reporting_currency,
        fx_rate,
        ss_fx_rate_date(BillingCurrency, upper(target), fx_rate, x_fx_from_date, x_fx_to_date) AS fx_rate_date,
        ss_fx_method(BillingCurrency, upper(target), fx_rate) AS fx_method,
        fx_rate IS NULL AS fx_missing,
        fx_issue,
        ss_fx_amount(BilledCost, fx_rate) AS billed_cost_reporting,
        ss_fx_amount(EffectiveCost, fx_rate) AS effective_cost_reporting,
        ss_fx_amount(ListCost, fx_rate) AS list_cost_reporting,
        ss_fx_amount(ContractedCost, fx_rate) AS contracted_cost_reporting
    FROM rated;

-- Every row of `daily_spend` converted the same way (on its `date`); cheap, it reads the rollup.
CREATE OR REPLACE MACRO daily_spend_in_currency(target, max_age_days := 7) AS TABLE
    WITH usd AS (SELECT currency, date, rate FROM fx_rates WHERE quote_currency = 'USD'),
    leg_from AS (
        SELECT d.*, f.rate AS x_fx_from_rate, f.date AS x_fx_from_date
        FROM daily_spend d ASOF LEFT JOIN usd f ON f.currency = d.currency AND f.date <= d.date
    ),
    leg_to AS (
        SELECT l.*, t.rate AS x_fx_to_rate, t.date AS x_fx_to_date
        FROM leg_from l ASOF LEFT JOIN usd t ON t.currency = upper(target) AND t.date <= l.date
    ),
    judged AS (
        SELECT *, ss_fx_issue(currency, upper(target), date, x_fx_from_rate, x_fx_from_date, x_fx_to_rate,
                              x_fx_to_date, max_age_days) AS fx_issue
        FROM leg_to
    ),
    rated AS (
        SELECT *, ss_fx_rate(currency, upper(target), x_fx_from_rate, x_fx_to_rate, fx_issue) AS fx_rate
        FROM judged
    )
    SELECT * EXCLUDE (x_fx_from_rate, x_fx_from_date, x_fx_to_rate, x_fx_to_date, fx_issue, fx_rate),
        upper(target) AS reporting_currency,
        fx_rate,
        ss_fx_rate_date(currency, upper(target), fx_rate, x_fx_from_date, x_fx_to_date) AS fx_rate_date,
        ss_fx_method(currency, upper(target), fx_rate) AS fx_method,
        fx_rate IS NULL AS fx_missing,
        fx_issue,
        ss_fx_amount(billed_cost, fx_rate) AS billed_cost_reporting,
        ss_fx_amount(effective_cost, fx_rate) AS effective_cost_reporting,
        ss_fx_amount(list_cost, fx_rate) AS list_cost_reporting
    FROM rated;

-- The reporting currency and rate-age limit recorded by the last `fx fetch` (defaults USD and 7 days).
CREATE OR REPLACE VIEW reporting_currency AS
SELECT
    coalesce((SELECT any_value(reporting_currency) FROM reporting_settings), 'USD') AS reporting_currency,
    coalesce((SELECT any_value(fx_max_age_days) FROM reporting_settings), 7) AS fx_max_age_days;

-- Every cost row with its amounts in the reporting currency (see the header of this file).
CREATE OR REPLACE VIEW cost_reporting AS
SELECT * FROM cost_in_currency(
    (SELECT reporting_currency FROM reporting_currency),
    max_age_days := (SELECT fx_max_age_days FROM reporting_currency));

-- daily_spend with its amounts in the reporting currency, for the dashboard's hot path.
CREATE OR REPLACE VIEW daily_spend_reporting AS
SELECT * FROM daily_spend_in_currency(
    (SELECT reporting_currency FROM reporting_currency),
    max_age_days := (SELECT fx_max_age_days FROM reporting_currency));
