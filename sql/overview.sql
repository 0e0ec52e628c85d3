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

-- name: overview_created_per_day(since)
-- Tickets created on each day from :since (a UTC date), for the Overview's chart (along tickets_created).
SELECT substr(created_at, 1, 10) AS day, count(*) AS n FROM tickets WHERE created_at >= :since GROUP BY 1;

-- name: overview_closed_per_day(since)
-- Tickets closed (moved to Done, and still there) on each day from :since (along tickets_done).
SELECT substr(done_at, 1, 10) AS day, count(*) AS n FROM tickets WHERE done_at >= :since GROUP BY 1;

-- name: overview_event_hours(since)
-- Events posted in each hour from :since ('2026-12-02T09'), as the event indexer counted them.
SELECT hour, sum(n) AS n FROM event_hours WHERE hour >= :since GROUP BY hour ORDER BY hour;

-- name: overview_tickets_named(ids)
-- Identifier and title of the tickets :ids (a JSON array): what the runs going on are about.
SELECT id, identifier, title FROM tickets WHERE id IN (SELECT value FROM json_each(:ids));

-- name: overview_queue_waiting()^
-- Messages waiting for a worker (queued or leased out), and when the oldest of them was queued.
SELECT count(*) AS depth, min(created_at) AS oldest FROM queued_messages WHERE status IN ('queued', 'leased');

-- name: overview_last_task_run()^
-- The newest task run, whoever started it.
SELECT task_name, started_at, status FROM task_runs ORDER BY started_at DESC LIMIT 1;
