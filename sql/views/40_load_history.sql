-- Load attempts as `status` and the Data health page report them: every attempt (`load_history`), and the
-- latest attempt of each source with its last success (`source_status`); a source is failing when its latest
-- attempt failed.
CREATE OR REPLACE VIEW load_history AS
SELECT load_id, kind, source, format, dataset, rows, status, coalesce(error, message) AS detail, error, message,
       synthetic, started_at, finished_at
FROM load_log;

CREATE OR REPLACE VIEW source_status AS
SELECT kind, source, format, status, error, message, finished_at AS last_attempt,
       max(finished_at) FILTER (WHERE status <> 'failed') OVER (PARTITION BY kind, source) AS last_success
FROM load_log
QUALIFY row_number() OVER (PARTITION BY kind, source ORDER BY load_id DESC) = 1;
