-- 0009: an event/ticker pair whose day 0 lies outside the stored price history (an event before the first price,
-- or after the last) is skipped with its reason, not failed: `eventstudy run` counts it here and lists it in
-- `message`; a skipped pair, like a failed one, keeps what an earlier run stored.
ALTER TABLE event_study_runs ADD COLUMN skipped INTEGER DEFAULT 0;
