-- Effective cost per `team` tag and currency (rows without the tag as "(untagged)")
SELECT coalesce(Tags->>'team', '(untagged)') AS team, BillingCurrency,
       count(*) AS cost_rows, sum(EffectiveCost) AS effective
FROM cost
GROUP BY ALL
ORDER BY BillingCurrency, effective DESC
