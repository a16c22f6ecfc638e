-- Monthly spend per provider, in each billing currency
SELECT date_trunc('month', date)::DATE AS month, provider, currency,
       sum(billed_cost) AS billed, sum(effective_cost) AS effective
FROM daily_spend
GROUP BY ALL
ORDER BY month, provider, currency
