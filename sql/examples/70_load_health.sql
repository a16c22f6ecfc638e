-- The latest load of every source, failing ones first
SELECT kind, source, status, error, last_attempt, last_success
FROM source_status
ORDER BY status = 'failed' DESC, last_attempt DESC
