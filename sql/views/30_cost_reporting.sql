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
-- DECIMAL(38)) it is computed in floating point. Rate 1 (the same currency) is the amount as it is, without the
-- 128-bit product, which is most of a dashboard query's time.
CREATE OR REPLACE MACRO ss_fx_amount(amount, rate) AS
    CASE
        WHEN rate IS NULL OR amount IS NULL THEN NULL::DECIMAL(38, 12)
        WHEN rate = 1 THEN CAST(amount AS DECIMAL(38, 12))
        WHEN abs(amount) < 1e13 THEN CAST(amount * rate AS DECIMAL(38, 12))
        ELSE CAST(amount::DOUBLE * rate::DOUBLE AS DECIMAL(38, 12))
    END;

-- The one rate lookup every conversion uses: for each (charge date, billing currency) of the daily rollup,
-- which holds every cost row's UTC charge date and currency, the rate into `target` and how it was found.
CREATE OR REPLACE MACRO fx_rates_into(target, max_age_days := 7) AS TABLE
    WITH usd AS (SELECT currency, date, rate FROM fx_rates WHERE quote_currency = 'USD'),
    keys AS (SELECT DISTINCT date, currency FROM daily_spend_rollup),
    leg_from AS (
        SELECT k.date, k.currency, f.rate AS from_rate, f.date AS from_date
        FROM keys k ASOF LEFT JOIN usd f ON f.currency = k.currency AND f.date <= k.date
    ),
    leg_to AS (
        SELECT l.*, t.rate AS to_rate, t.date AS to_date
        FROM leg_from l ASOF LEFT JOIN usd t ON t.currency = upper(target) AND t.date <= l.date
    ),
    judged AS (
        SELECT *, ss_fx_issue(currency, upper(target), date, from_rate, from_date, to_rate, to_date,
                              max_age_days) AS fx_issue
        FROM leg_to
    ),
    rated AS (SELECT *, ss_fx_rate(currency, upper(target), from_rate, to_rate, fx_issue) AS fx_rate FROM judged)
    SELECT date, currency, upper(target) AS reporting_currency, fx_rate,
        ss_fx_rate_date(currency, upper(target), fx_rate, from_date, to_date) AS fx_rate_date,
        ss_fx_method(currency, upper(target), fx_rate) AS fx_method,
        fx_rate IS NULL AS fx_missing,
        fx_issue
    FROM rated;

-- Every row of `cost` with its amounts converted to `target` (any currency with a USD rate).
CREATE OR REPLACE MACRO cost_in_currency(target, max_age_days := 7) AS TABLE
    SELECT c.*, upper(target) AS reporting_currency, r.fx_rate, r.fx_rate_date, r.fx_method,
        coalesce(r.fx_missing, true) AS fx_missing,
        CASE WHEN r.date IS NULL THEN 'no daily_spend row for this charge date and currency' ELSE r.fx_issue END
            AS fx_issue,
        ss_fx_amount(c.BilledCost, r.fx_rate) AS billed_cost_reporting,
        ss_fx_amount(c.EffectiveCost, r.fx_rate) AS effective_cost_reporting,
        ss_fx_amount(c.ListCost, r.fx_rate) AS list_cost_reporting,
        ss_fx_amount(c.ContractedCost, r.fx_rate) AS contracted_cost_reporting
    FROM cost c
    LEFT JOIN fx_rates_into(target, max_age_days := max_age_days) r
      ON r.date = CAST(c.ChargePeriodStart AS DATE) AND r.currency = c.BillingCurrency;

-- Every row of `daily_spend` converted the same way (on its `date`); cheap, it reads the rollup.
CREATE OR REPLACE MACRO daily_spend_in_currency(target, max_age_days := 7) AS TABLE
    SELECT d.*, r.reporting_currency, r.fx_rate, r.fx_rate_date, r.fx_method, r.fx_missing, r.fx_issue,
        ss_fx_amount(d.billed_cost, r.fx_rate) AS billed_cost_reporting,
        ss_fx_amount(d.effective_cost, r.fx_rate) AS effective_cost_reporting,
        ss_fx_amount(d.list_cost, r.fx_rate) AS list_cost_reporting
    FROM daily_spend d
    JOIN fx_rates_into(target, max_age_days := max_age_days) r USING (date, currency);

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
