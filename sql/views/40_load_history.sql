-- Load attempts as `status` and the Data health page report them: every attempt (`load_history`), the latest
-- attempt of each source with its last success (`source_status`), and every failed attempt with where it
-- stands (`load_failures`): `status` exits 1 while one is open.
CREATE OR REPLACE VIEW load_history AS
SELECT load_id, kind, source, format, dataset, rows, status, coalesce(error, message) AS detail, error, message,
       synthetic, started_at, finished_at
FROM load_log;

CREATE OR REPLACE VIEW source_status AS
SELECT kind, source, format, status, error, message, finished_at AS last_attempt,
       max(finished_at) FILTER (WHERE status <> 'failed') OVER (PARTITION BY kind, source) AS last_success
FROM load_log
QUALIFY row_number() OVER (PARTITION BY kind, source ORDER BY load_id DESC) = 1;

-- A failed attempt stays `open` until it is `resolved` by a later successful attempt (loaded, unchanged or
-- superseded) of the same kind and source, or, for billing, by a later successful load of the same dataset whose
-- billing accounts include every account of the failure (only a failure that happened after its rows were read
-- knows its accounts, `load_log.scope`), or until a user `dismissed` it (table `load_dismissals`).
CREATE OR REPLACE VIEW load_failures AS
WITH resolution AS (
    SELECT f.load_id,
           (SELECT min(s.load_id) FROM load_log s
            WHERE s.kind = f.kind AND s.load_id > f.load_id AND s.status <> 'failed'
              AND (s.source = f.source
                   OR (f.kind = 'billing' AND len(f.scope) > 0 AND s.dataset IS NOT DISTINCT FROM f.dataset
                       AND list_has_all(s.scope, f.scope)))) AS resolved_by
    FROM load_log f WHERE f.status = 'failed'
)
SELECT f.load_id, f.kind, f.source, f.format, f.error, f.finished_at AS failed_at,
       CASE WHEN d.load_id IS NOT NULL THEN 'dismissed' WHEN r.resolved_by IS NOT NULL THEN 'resolved'
            ELSE 'open' END AS state,
       r.resolved_by, d.dismissed_by, d.dismissed_at, d.reason AS dismiss_reason
FROM load_log f JOIN resolution r USING (load_id) LEFT JOIN load_dismissals d USING (load_id);
