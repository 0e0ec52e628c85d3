-- The live path (app/store/live.py): what every process reads to publish what others committed, and the
-- pruning of what no process will read again.

-- name: live_event_ids_since(after_id, limit)
-- Rowids committed after a rowid, by any process: cheap (the rowid is the table's key), so the poller can
-- leave out its own process's events before reading any payload.
SELECT id FROM ticket_events WHERE id > :after_id ORDER BY id LIMIT :limit;

-- name: live_events_by_ids(ids)
SELECT e.id AS rowid, e.ticket_id, e.seq, e.event_type, e.payload_json, e.ts, e.worker
  FROM json_each(:ids) j JOIN ticket_events e ON e.id = j.value ORDER BY e.id;

-- name: live_last_event_rowid()$
SELECT coalesce(max(id), 0) FROM ticket_events;

-- name: live_broadcasts_since(after_id, limit)
SELECT b.id, b.kind, b.ticket_id, t.identifier, b.body FROM broadcasts b LEFT JOIN tickets t ON t.id = b.ticket_id
 WHERE b.id > :after_id ORDER BY b.id LIMIT :limit;

-- name: live_last_broadcast_rowid()$
SELECT coalesce(max(id), 0) FROM broadcasts;

-- name: live_prune_broadcasts(before)!
DELETE FROM broadcasts WHERE created_at < :before;

-- name: live_prune_ingest_keys(before)!
DELETE FROM ingest_keys WHERE created_at < :before;

-- name: live_data_version()$
-- Moves when another connection commits (each connection has its own counter: compare with its own).
PRAGMA data_version;
