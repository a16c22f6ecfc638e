-- Event CAR[-1,+1] per ticker, market model against SPY, with its significance
SELECT e.announced_at::DATE AS day, r.event_id, r.ticker, round(r.car, 4) AS car, round(r.car_t, 2) AS car_t,
       r.stars, e.headline
FROM event_study_results r
JOIN events e USING (event_id)
WHERE r."window" = '[-1,+1]' AND r.benchmark = 'SPY' AND r.model = 'market'
ORDER BY day, r.ticker
