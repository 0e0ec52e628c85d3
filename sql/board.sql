-- name: board_state()
-- Per-status ticket counts and versions (kept by triggers; see migration 002).
SELECT status, n, version FROM board_state;

-- name: board_first_page(status, assignee, tag, priority, match, limit)
-- A column's first cards, newest-updated (or hand-placed) first. Filters are optional: NULL means "any".
-- :assignee '' means unassigned; :match is an FTS5 query already quoted by app/search.py.
SELECT t.id, t.identifier, t.title, t.status, t.priority, t.assigned_to, t.sort_key,
       (SELECT group_concat(tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.status = :status
   AND (:assignee IS NULL OR coalesce(t.assigned_to, '') = :assignee)
   AND (:priority IS NULL OR t.priority = :priority)
   AND (:tag IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = :tag))
   AND (:match IS NULL OR t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match))
 ORDER BY t.sort_key DESC, t.id DESC
 LIMIT :limit;

-- name: board_next_page(status, assignee, tag, priority, match, after_key, after_id, limit)
-- The cards after (after_key, after_id): keyset paging on the tickets_board index, never OFFSET.
SELECT t.id, t.identifier, t.title, t.status, t.priority, t.assigned_to, t.sort_key,
       (SELECT group_concat(tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.status = :status
   AND (t.sort_key, t.id) < (:after_key, :after_id)
   AND (:assignee IS NULL OR coalesce(t.assigned_to, '') = :assignee)
   AND (:priority IS NULL OR t.priority = :priority)
   AND (:tag IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = :tag))
   AND (:match IS NULL OR t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match))
 ORDER BY t.sort_key DESC, t.id DESC
 LIMIT :limit;

-- name: board_filtered_counts(assignee, tag, priority, match)
-- Counts per status under a filter (unfiltered counts come from board_state instead).
SELECT t.status, count(*) AS n
  FROM tickets t
 WHERE (:assignee IS NULL OR coalesce(t.assigned_to, '') = :assignee)
   AND (:priority IS NULL OR t.priority = :priority)
   AND (:tag IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = :tag))
   AND (:match IS NULL OR t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match))
 GROUP BY t.status;

-- name: board_live_tickets(since)
-- Tickets a worker is busy on right now, by heartbeat: its newest one says busy, on that ticket, since :since.
SELECT h.ticket_id, h.worker, h.detail, h.ts AS at
  FROM heartbeats h
  JOIN (SELECT worker, max(id) AS id FROM heartbeats GROUP BY worker) last ON last.id = h.id
 WHERE h.status = 'busy' AND h.ticket_id IS NOT NULL AND h.ts >= :since;

-- name: board_live_runs(since)
-- Tickets whose run is going on: a worker posted there since :since, and not the run's end; with that event.
SELECT a.ticket_id, a.worker, a.last_at AS at, e.seq, e.event_type, e.payload_json, e.id AS rowid, e.ts
  FROM worker_activity a
  JOIN ticket_events e ON e.ticket_id = a.ticket_id AND e.seq = a.last_seq
 WHERE a.last_at >= :since AND a.last_type <> 'result';

-- name: board_assignees()
-- Everyone tickets are assigned to, for the filter and the assign prompt.
SELECT DISTINCT assigned_to AS name FROM tickets WHERE assigned_to IS NOT NULL ORDER BY 1;

-- name: board_tags()
SELECT DISTINCT tag AS name FROM ticket_tags ORDER BY 1;

-- name: board_column_last_change(status)$
-- When a card in this column last changed place; a load-more asks what changed after it.
SELECT max(placed_at) FROM tickets WHERE status = :status;

-- name: board_changed_above(status, since, after_key, after_id, assignee, tag, priority, match)
-- Cards that changed place after :since and now sort above the cursor: a page drawn earlier has not shown
-- them there, so the load-more hands them over to be put on top (no gaps while tickets move underneath).
SELECT t.id, t.identifier, t.title, t.status, t.priority, t.assigned_to, t.sort_key,
       (SELECT group_concat(tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.status = :status AND t.placed_at > :since
   AND (t.sort_key, t.id) > (:after_key, :after_id)
   AND (:assignee IS NULL OR coalesce(t.assigned_to, '') = :assignee)
   AND (:priority IS NULL OR t.priority = :priority)
   AND (:tag IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = :tag))
   AND (:match IS NULL OR t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match))
 ORDER BY t.sort_key DESC, t.id DESC
 LIMIT 100;

-- name: board_search(match, limit)
-- Tickets whose title or description match, best first (FTS5's bm25 rank).
SELECT t.identifier, t.title, t.status
  FROM tickets_fts f JOIN tickets t ON t.id = f.rowid
 WHERE tickets_fts MATCH :match
 ORDER BY f.rank
 LIMIT :limit;

-- name: board_stalled_runs(quiet_since, seen_since)
-- Tickets whose run went quiet: the worker's last event there was not the run's end, and came before :quiet_since
-- (the stall time) but after :seen_since (older is history). The card says so, and the Overview lists it.
SELECT ticket_id, worker, last_at AS at
  FROM worker_activity
 WHERE last_at < :quiet_since AND last_at >= :seen_since AND last_type <> 'result';
