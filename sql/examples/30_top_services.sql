-- Top 10 services by effective cost in the reporting currency, with their share
SELECT provider, service_name, service_category, reporting_currency,
       sum(effective_cost_reporting) AS effective,
       round(100 * sum(effective_cost_reporting) / sum(sum(effective_cost_reporting)) OVER (), 1) AS share_pct
FROM daily_spend_reporting
WHERE NOT fx_missing
GROUP BY ALL
ORDER BY effective DESC
LIMIT 10
