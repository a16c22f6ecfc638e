-- Spend per provider without the synthetic demo rows (loads marked synthetic in load_log)
SELECT ServiceProviderName, BillingCurrency, count(*) AS cost_rows, sum(BilledCost) AS billed
FROM cost
WHERE x_LoadId NOT IN (SELECT load_id FROM synthetic_loads)
GROUP BY ALL
ORDER BY ALL
