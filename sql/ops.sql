-- The operations pages (app/store/ops.py): heartbeats, task runs and the activity feed.

-- name: ops_latest_heartbeats()
-- Each worker's newest heartbeat, with the ticket it was on.
SELECT h.worker, h.status, h.detail, h.ts, t.identifier AS ticket
  FROM heartbeats h
  JOIN (SELECT worker, max(id) AS id FROM heartbeats GROUP BY worker) last ON last.id = h.id
  LEFT JOIN tickets t ON t.id = h.ticket_id
 ORDER BY h.worker;

-- name: ops_last_events()
-- Each worker's newest event (what the event writer keeps in worker_activity), with its ticket.
SELECT a.worker, a.last_at, a.last_type, t.identifier AS ticket
  FROM worker_activity a
  JOIN (SELECT worker, max(last_at) AS last_at FROM worker_activity GROUP BY worker) newest
    ON newest.worker = a.worker AND newest.last_at = a.last_at
  LEFT JOIN tickets t ON t.id = a.ticket_id
 ORDER BY a.worker;

-- name: ops_task_summaries()
-- One row per scheduled task: how often it ran, how it last ended, and its failures.
SELECT task_name,
       count(*) AS runs,
       sum(status = 'error') AS failures,
       max(started_at) AS last_started_at,
       (SELECT r.status FROM task_runs r WHERE r.task_name = task_runs.task_name
         ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS last_status,
       CAST(avg(duration_ms) AS INTEGER) AS avg_ms
  FROM task_runs GROUP BY task_name ORDER BY task_name;

-- name: ops_queue_counts()
SELECT status, count(*) AS n FROM queued_messages GROUP BY status;

-- name: ops_count_sessions()$
SELECT count(*) FROM sessions;

-- name: ops_insert_heartbeat(worker, ticket_identifier, status, detail)<!
INSERT INTO heartbeats (worker, ticket_id, status, detail)
VALUES (:worker, (SELECT id FROM tickets WHERE identifier = :ticket_identifier), :status, :detail);

-- name: ops_recent_activity(before_at, before_key, kind, ticket, actor, limit)
-- The feed: comments, runs and new tickets, newest first, each branch cut to :limit by its own time index. A run is
-- one item, as of the last event its worker sent (worker_activity: one row per worker and ticket, kept by the
-- writer). Pages go by keyset: items before (:before_at, :before_key) in (at, key) order (NULL: the newest);
-- :kind (comment, run, created), :ticket (an identifier) and :actor narrow it, each NULL for all.
SELECT kind, at, key, identifier, title, actor, summary, ticket_id, seq FROM (
  SELECT * FROM (
    SELECT 'comment' AS kind, c.created_at AS at, printf('c%016d', c.id) AS key, t.identifier, t.title,
           c.author AS actor, substr(c.body, 1, 240) AS summary, t.id AS ticket_id, 0 AS seq
      FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
     WHERE (:kind IS NULL OR :kind = 'comment') AND (:ticket IS NULL OR t.identifier = :ticket)
       AND (:actor IS NULL OR c.author = :actor)
       AND (:before_at IS NULL OR c.created_at < :before_at
            OR (c.created_at = :before_at AND printf('c%016d', c.id) < :before_key))
     ORDER BY c.created_at DESC, c.id DESC LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'run', a.last_at, printf('r%016d', a.ticket_id) || a.worker, t.identifier, t.title, a.worker,
           a.last_type, t.id, a.last_seq
      FROM worker_activity a JOIN tickets t ON t.id = a.ticket_id
     WHERE (:kind IS NULL OR :kind = 'run') AND (:ticket IS NULL OR t.identifier = :ticket)
       AND (:actor IS NULL OR a.worker = :actor)
       AND (:before_at IS NULL OR a.last_at < :before_at
            OR (a.last_at = :before_at AND printf('r%016d', a.ticket_id) || a.worker < :before_key))
     ORDER BY a.last_at DESC LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'created', t.created_at, printf('t%016d', t.id), t.identifier, t.title, coalesce(t.assigned_to, ''),
           t.status, t.id, 0
      FROM tickets t
     WHERE (:kind IS NULL OR :kind = 'created') AND (:ticket IS NULL OR t.identifier = :ticket)
       AND (:actor IS NULL OR t.assigned_to = :actor)
       AND (:before_at IS NULL OR t.created_at < :before_at
            OR (t.created_at = :before_at AND printf('t%016d', t.id) < :before_key))
     ORDER BY t.created_at DESC, t.id DESC LIMIT :limit)
)
ORDER BY at DESC, key DESC
LIMIT :limit;

-- name: ops_sessions_since(since)
-- Sessions each agent started since :since (Team's "sessions today").
SELECT agent AS worker, count(*) AS n FROM sessions WHERE started_at >= :since GROUP BY agent;

-- name: ops_done_since(since)
-- Tickets closed since :since, by whom they are assigned to (Team's "done this week"). Along tickets_done, named:
-- for the GROUP BY the planner otherwise walks all of tickets_assignee (0.1-0.2 s at 100,000 tickets).
SELECT assigned_to AS worker, count(*) AS n FROM tickets INDEXED BY tickets_done
 WHERE done_at >= :since AND assigned_to IS NOT NULL GROUP BY assigned_to;

-- name: ops_worker_hours(since)
-- Events each worker posted in each hour since :since ('2026-12-02T09'): Team's 24-hour strips.
SELECT worker, hour, n FROM event_hours WHERE hour >= :since AND worker != '';
