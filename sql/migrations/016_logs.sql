-- The Logs page pages heartbeats and task runs by keyset, filtered by worker, status or task: each filter reads its
-- own index from the cursor down, rather than every row of the history (heartbeats are never pruned).
CREATE INDEX heartbeats_worker_id ON heartbeats (worker, id);
CREATE INDEX heartbeats_status_id ON heartbeats (status, id);
CREATE INDEX task_runs_failed ON task_runs (started_at, id) WHERE status = 'error';

PRAGMA user_version = 16;
