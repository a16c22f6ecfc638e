-- SYNTHETIC data, defined once: the rows written by loads that recorded `load_log.synthetic` (only
-- `python -m etl demo` writes such loads). Demo data never mixes with real data: `demo` refuses a warehouse that
-- holds real data (view `real_data`), and a real load of billing, prices or FX removes every synthetic row of its
-- kind in its own transaction (etl/demo/isolation.py). The demo's SYNTHETIC Google Cloud pricing catalog (kind
-- 'gcp_catalog', source services/<ID>) goes with the demo's billing rows, or when a real catalog is stored.

-- Synthetic loads whose rows are still in the warehouse: a billing load that owns a replace unit (a newer export
-- replaced the others), a price or FX load that last wrote some row, a catalog load whose service is stored.
CREATE OR REPLACE VIEW synthetic_loads AS
SELECT load_id, kind, source, format, finished_at
FROM load_log l
WHERE synthetic AND status = 'loaded'
  AND CASE kind
          WHEN 'billing' THEN load_id IN (SELECT load_id FROM replace_unit)
          WHEN 'prices' THEN load_id IN (SELECT load_id FROM prices)
          WHEN 'fx' THEN load_id IN (SELECT load_id FROM fx_rates)
          WHEN 'gcp_catalog' THEN substr(source, 10) IN (SELECT service_id FROM gcp_sku_catalog)
          ELSE true
      END;

-- What those rows are: cost rows per provider and billing currency, prices per ticker (in its trading
-- currency), FX rates per currency (against its quote currency), with their count and date range; catalog SKUs
-- per service (in the currency of their prices; no dates).
CREATE OR REPLACE VIEW synthetic_data AS
SELECT 'billing' AS kind, ServiceProviderName AS subject, BillingCurrency AS currency, count(*) AS rows,
       min(ChargePeriodStart)::DATE AS first_day, max(ChargePeriodStart)::DATE AS last_day
FROM cost_line WHERE x_LoadId IN (SELECT load_id FROM synthetic_loads WHERE kind = 'billing')
GROUP BY ServiceProviderName, BillingCurrency
UNION ALL
SELECT 'prices', ticker, any_value(currency), count(*), min(date), max(date)
FROM prices WHERE load_id IN (SELECT load_id FROM synthetic_loads WHERE kind = 'prices')
GROUP BY ticker
UNION ALL
SELECT 'fx', currency, any_value(quote_currency), count(*), min(date), max(date)
FROM fx_rates WHERE load_id IN (SELECT load_id FROM synthetic_loads WHERE kind = 'fx')
GROUP BY currency
UNION ALL
SELECT 'gcp_catalog', service_name, any_value(currency), count(*), NULL, NULL
FROM gcp_sku_catalog
WHERE service_id IN (SELECT substr(source, 10) FROM synthetic_loads WHERE kind = 'gcp_catalog')
GROUP BY service_name;

-- The complement in the same shape: what loads that are not synthetic wrote. `python -m etl demo` refuses a
-- warehouse where this view has rows.
CREATE OR REPLACE VIEW real_data AS
SELECT 'billing' AS kind, ServiceProviderName AS subject, BillingCurrency AS currency, count(*) AS rows,
       min(ChargePeriodStart)::DATE AS first_day, max(ChargePeriodStart)::DATE AS last_day
FROM cost_line WHERE x_LoadId NOT IN (SELECT load_id FROM synthetic_loads WHERE kind = 'billing')
GROUP BY ServiceProviderName, BillingCurrency
UNION ALL
SELECT 'prices', ticker, any_value(currency), count(*), min(date), max(date)
FROM prices WHERE load_id NOT IN (SELECT load_id FROM synthetic_loads WHERE kind = 'prices')
GROUP BY ticker
UNION ALL
SELECT 'fx', currency, any_value(quote_currency), count(*), min(date), max(date)
FROM fx_rates WHERE load_id NOT IN (SELECT load_id FROM synthetic_loads WHERE kind = 'fx')
GROUP BY currency;
