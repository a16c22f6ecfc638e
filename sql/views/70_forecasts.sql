-- The rolling-origin backtest of the month-end forecasts, summed up per series: MAPE over the months tested.
CREATE OR REPLACE VIEW forecast_accuracy AS
SELECT level, basis, currency, provider, measure, count(*) AS months, min(origin) AS first_month,
       max(origin) AS last_month, 100 * avg(ape) AS mape_pct, 100 * max(ape) AS worst_ape_pct
FROM forecast_backtests
GROUP BY ALL;
