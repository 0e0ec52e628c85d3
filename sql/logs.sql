-- The Logs page (app/store/logs.py): task runs and heartbeat history, newest first, filtered, paged by keyset.
-- Each filter that narrows by a column has a query of its own, so that it reads that column's index from the
-- cursor down (migration 016) instead of the whole history; the rest (:q, and :failed or :status when another
-- column already chose the index) is checked on the rows read. :q matches any case of ASCII letters.

-- name: logs_task_runs(q, before_started, before_id, limit, tail)
-- Runs of every task before the keyset (:before_started, :before_id) ('~' sorts after every time: the newest).
-- The output's last :tail characters, and its whole length.
SELECT id, task_name, status, started_at, finished_at, duration_ms, exit_code, trigger,
       substr(output, -:tail) AS output, length(output) AS output_chars
  FROM task_runs
 WHERE (started_at, id) < (coalesce(:before_started, '~'), coalesce(:before_id, 0))
   AND (:q IS NULL OR instr(lower(task_name || char(10) || output), lower(:q)) > 0)
 ORDER BY started_at DESC, id DESC
 LIMIT :limit;

-- name: logs_task_runs_of(task, failed, q, before_started, before_id, limit, tail)
-- Runs of one task (only failed ones when :failed is 1), by its index.
SELECT id, task_name, status, started_at, finished_at, duration_ms, exit_code, trigger,
       substr(output, -:tail) AS output, length(output) AS output_chars
  FROM task_runs
 WHERE task_name = :task
   AND (started_at, id) < (coalesce(:before_started, '~'), coalesce(:before_id, 0))
   AND (:failed = 0 OR status = 'error')
   AND (:q IS NULL OR instr(lower(task_name || char(10) || output), lower(:q)) > 0)
 ORDER BY started_at DESC, id DESC
 LIMIT :limit;

-- name: logs_failed_runs(q, before_started, before_id, limit, tail)
-- Failed runs of every task, by the index of failures alone (they are few among many).
SELECT id, task_name, status, started_at, finished_at, duration_ms, exit_code, trigger,
       substr(output, -:tail) AS output, length(output) AS output_chars
  FROM task_runs
 WHERE status = 'error'
   AND (started_at, id) < (coalesce(:before_started, '~'), coalesce(:before_id, 0))
   AND (:q IS NULL OR instr(lower(task_name || char(10) || output), lower(:q)) > 0)
 ORDER BY started_at DESC, id DESC
 LIMIT :limit;

-- name: logs_heartbeats(q, before, limit)
-- Heartbeats of every worker in the order they came, before the id :before (NULL: the newest).
SELECT h.id, h.worker, h.status, h.detail, h.ts, t.identifier AS ticket
  FROM heartbeats h LEFT JOIN tickets t ON t.id = h.ticket_id
 WHERE h.id < coalesce(:before, 9223372036854775807)
   AND (:q IS NULL OR instr(lower(h.worker || char(10) || h.detail), lower(:q)) > 0)
 ORDER BY h.id DESC
 LIMIT :limit;

-- name: logs_heartbeats_of(worker, status, q, before, limit)
-- One worker's heartbeats (of one status when :status is not NULL), by its index.
SELECT h.id, h.worker, h.status, h.detail, h.ts, t.identifier AS ticket
  FROM heartbeats h LEFT JOIN tickets t ON t.id = h.ticket_id
 WHERE h.worker = :worker
   AND h.id < coalesce(:before, 9223372036854775807)
   AND (:status IS NULL OR h.status = :status)
   AND (:q IS NULL OR instr(lower(h.worker || char(10) || h.detail), lower(:q)) > 0)
 ORDER BY h.id DESC
 LIMIT :limit;

-- name: logs_heartbeats_in(status, q, before, limit)
-- Every worker's heartbeats of one status (a rare one, "down", is then found at once), by its index.
SELECT h.id, h.worker, h.status, h.detail, h.ts, t.identifier AS ticket
  FROM heartbeats h LEFT JOIN tickets t ON t.id = h.ticket_id
 WHERE h.status = :status
   AND h.id < coalesce(:before, 9223372036854775807)
   AND (:q IS NULL OR instr(lower(h.worker || char(10) || h.detail), lower(:q)) > 0)
 ORDER BY h.id DESC
 LIMIT :limit;
