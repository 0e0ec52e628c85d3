-- Scheduled tasks (MC_TASKS_FILE) run for real: each run keeps its exit status and what started it, and a person's
-- "Run now" waits in task_requests until the scheduler (in `mc serve` or `mc scheduler`) takes it.
ALTER TABLE task_runs ADD COLUMN exit_code INTEGER;
ALTER TABLE task_runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'schedule'
  CHECK (trigger IN ('schedule', 'manual', 'external'));

CREATE TABLE task_requests (
  id            INTEGER PRIMARY KEY,
  task_name     TEXT    NOT NULL,
  requested_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  requested_by  TEXT,
  taken_at      TEXT                     -- when the scheduler started it (NULL: waiting)
);
CREATE INDEX task_requests_waiting ON task_requests (id) WHERE taken_at IS NULL;

PRAGMA user_version = 12;
