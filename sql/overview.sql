-- The Overview's "Needs you" (app/store/overview.py): each thing a person should look at, oldest first.

-- name: overview_waiting_tickets(limit)
-- Tickets in review or blocked: someone waits on a person. Each column is read from its bottom (the board's own
-- order, sort_key: update time unless a card was placed by hand) along the board's index, so the longest waiting
-- come first without sorting a column of thousands.
SELECT * FROM (
  SELECT identifier, title, status, updated_at, coalesce(assigned_to, '') AS assignee, id, sort_key FROM tickets
   WHERE status = 'review' ORDER BY sort_key, id LIMIT :limit)
UNION ALL
SELECT * FROM (
  SELECT identifier, title, status, updated_at, coalesce(assigned_to, '') AS assignee, id, sort_key FROM tickets
   WHERE status = 'blocked' ORDER BY sort_key, id LIMIT :limit)
ORDER BY sort_key, id
LIMIT :limit;

-- name: overview_count_waiting_tickets()$
SELECT count(*) FROM tickets WHERE status IN ('review', 'blocked');

-- name: overview_lost_messages(limit)
-- Messages to workers that will not be delivered (dead after their attempts, or stuck past the limit), until a
-- person requeues or dismisses them.
SELECT q.id, t.identifier AS ticket, coalesce(q.worker, '') AS worker, substr(q.body, 1, 200) AS body, q.status,
       q.attempts, coalesce(q.last_error, '') AS last_error, q.updated_at
  FROM queued_messages q LEFT JOIN tickets t ON t.id = q.ticket_id
 WHERE q.status IN ('dead', 'expired') AND q.dismissed_at IS NULL
 ORDER BY q.updated_at, q.id
 LIMIT :limit;

-- name: overview_failed_tasks()
-- Tasks whose newest run failed.
SELECT task_name, started_at, exit_code, substr(output, -200) AS output_tail
  FROM (SELECT task_name, status, started_at, exit_code, output,
               row_number() OVER (PARTITION BY task_name ORDER BY started_at DESC, id DESC) AS n
          FROM task_runs WHERE status != 'skipped')
 WHERE n = 1 AND status = 'error'
 ORDER BY started_at DESC;

-- name: overview_stalled_runs(quiet_since, seen_since, limit)
-- Runs that started and went quiet: a worker's last event on a ticket was not a result, and came before
-- :quiet_since (the stall time) but after :seen_since (older than that is history, not a stall).
SELECT a.worker, t.identifier AS ticket, t.title, a.last_at, a.last_type
  FROM worker_activity a JOIN tickets t ON t.id = a.ticket_id
 WHERE a.last_type != 'result' AND a.last_at < :quiet_since AND a.last_at >= :seen_since
 ORDER BY a.last_at
 LIMIT :limit;
