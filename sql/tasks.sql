-- Scheduled tasks and their runs (app/store/tasks.py): the scheduler's writes, the /tasks page's reads.

-- name: tasks_start_run(task_name, trigger, started_at)<!
INSERT INTO task_runs (task_name, status, started_at, trigger) VALUES (:task_name, 'running', :started_at, :trigger)
RETURNING id;

-- name: tasks_finish_run(id, status, finished_at, duration_ms, exit_code, output)!
UPDATE task_runs
   SET status = :status, finished_at = :finished_at, duration_ms = :duration_ms, exit_code = :exit_code,
       output = :output
 WHERE id = :id;

-- name: tasks_report_run(task_name, status, started_at, finished_at, duration_ms, exit_code, output)<!
-- A run an external scheduler reports, finished.
INSERT INTO task_runs (task_name, status, started_at, finished_at, duration_ms, exit_code, output, trigger)
VALUES (:task_name, :status, :started_at, :finished_at, :duration_ms, :exit_code, :output, 'external')
RETURNING id;

-- name: tasks_running(task_name)$
-- Whether a run of the task is under way (started and not finished).
SELECT count(*) FROM task_runs WHERE task_name = :task_name AND status = 'running';

-- name: tasks_abandon_running(finished_at)!
-- Runs left 'running' by a scheduler that died: they will never finish.
UPDATE task_runs SET status = 'error', finished_at = :finished_at,
       output = output || 'The scheduler stopped before this run ended; its result is unknown.'
 WHERE status = 'running' AND trigger != 'external';

-- name: tasks_request(task_name, requested_by)!
INSERT INTO task_requests (task_name, requested_by) VALUES (:task_name, :requested_by);

-- name: tasks_take_requests(taken_at)
-- The runs people asked for that wait, each taken once.
UPDATE task_requests SET taken_at = :taken_at WHERE taken_at IS NULL RETURNING task_name, requested_by;

-- name: tasks_waiting()
SELECT task_name, min(requested_at) AS requested_at FROM task_requests WHERE taken_at IS NULL GROUP BY task_name;

-- name: tasks_recent_runs(task_name, before_started, before_id, limit)
-- Runs newest first (of one task, or all when :task_name is NULL), after the keyset (before_started, before_id).
SELECT id, task_name, status, started_at, finished_at, duration_ms, exit_code, trigger, output
  FROM task_runs
 WHERE (:task_name IS NULL OR task_name = :task_name)
   AND (:before_started IS NULL OR (started_at, id) < (:before_started, :before_id))
 ORDER BY started_at DESC, id DESC
 LIMIT :limit;

-- name: tasks_history(per_task)
-- Each task's newest :per_task runs, for its line and sparkline.
SELECT task_name, id, status, started_at, duration_ms, exit_code
  FROM (SELECT task_name, id, status, started_at, duration_ms, exit_code,
               row_number() OVER (PARTITION BY task_name ORDER BY started_at DESC, id DESC) AS n
          FROM task_runs)
 WHERE n <= :per_task
 ORDER BY task_name, started_at DESC, id DESC;
