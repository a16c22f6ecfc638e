-- Effective cost per month, one column per provider, in the reporting currency (PIVOT)
PIVOT (
    SELECT date_trunc('month', date)::DATE AS month, provider, effective_cost_reporting
    FROM daily_spend_reporting
    WHERE NOT fx_missing
)
ON provider
USING sum(effective_cost_reporting)
ORDER BY month
