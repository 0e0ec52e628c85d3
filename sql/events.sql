-- The live path: worker events in, and what every process reads to publish what others committed.
-- Batches pass ids and pairs as JSON arrays (json_each), so a whole batch is a few statements.

-- name: events_ticket_ids(ids)
-- Which of these tickets still exist (a batch skips events for a ticket deleted meanwhile).
SELECT id FROM tickets WHERE id IN (SELECT value FROM json_each(:ids));

-- name: events_last_seqs(ids)
-- The last seq given out per ticket: one index probe each (a GROUP BY would read every event of the ticket).
SELECT ticket_id, seq FROM (
  SELECT j.value AS ticket_id, (SELECT max(seq) FROM ticket_events WHERE ticket_id = j.value) AS seq
    FROM json_each(:ids) j)
 WHERE seq IS NOT NULL;

-- name: events_known_uuids(pairs)
-- Events already stored under these (ticket_id, uuid) pairs: a retried POST gets the first seq back.
SELECT e.ticket_id, e.uuid, e.seq
  FROM json_each(:pairs) p
  JOIN ticket_events e ON e.ticket_id = json_extract(p.value, '$[0]') AND e.uuid = json_extract(p.value, '$[1]');

-- name: events_known_keys(pairs)
-- Idempotency-Keys already used on these tickets, with the seqs they were answered with.
SELECT k.ticket_id, k.key, k.seqs
  FROM json_each(:pairs) p
  JOIN ingest_keys k ON k.ticket_id = json_extract(p.value, '$[0]') AND k.key = json_extract(p.value, '$[1]');

-- name: events_insert(ticket_id, seq, event_type, payload_json, uuid, ts)*!
INSERT INTO ticket_events (ticket_id, seq, event_type, payload_json, uuid, ts)
VALUES (:ticket_id, :seq, :event_type, :payload_json, :uuid, :ts);

-- name: events_insert_keys(ticket_id, key, seqs)*!
INSERT INTO ingest_keys (ticket_id, key, seqs) VALUES (:ticket_id, :key, :seqs);

-- name: events_after(ticket_id, after, limit)
-- Replay: a ticket's events after a seq, in order.
SELECT seq, event_type, payload_json, ts FROM ticket_events
 WHERE ticket_id = :ticket_id AND seq > :after ORDER BY seq LIMIT :limit;

-- name: events_ids_since(after_id, limit)
-- Rowids committed after a rowid, by any process: cheap (the rowid is the table's key), so the poller can
-- leave out its own process's events before reading any payload.
SELECT id FROM ticket_events WHERE id > :after_id ORDER BY id LIMIT :limit;

-- name: events_by_ids(ids)
SELECT e.id AS rowid, e.ticket_id, e.seq, e.event_type, e.payload_json, e.ts
  FROM json_each(:ids) j JOIN ticket_events e ON e.id = j.value ORDER BY e.id;

-- name: events_last_rowid()$
SELECT coalesce(max(id), 0) FROM ticket_events;

-- name: broadcasts_since(after_id, limit)
SELECT b.id, b.kind, b.ticket_id, t.identifier, b.body FROM broadcasts b LEFT JOIN tickets t ON t.id = b.ticket_id
 WHERE b.id > :after_id ORDER BY b.id LIMIT :limit;

-- name: broadcasts_last_rowid()$
SELECT coalesce(max(id), 0) FROM broadcasts;

-- name: broadcasts_prune(before)!
DELETE FROM broadcasts WHERE created_at < :before;

-- name: ingest_keys_prune(before)!
DELETE FROM ingest_keys WHERE created_at < :before;

-- name: data_version()$
-- Moves when another connection commits (each connection has its own counter: compare with its own).
PRAGMA data_version;

-- name: events_last_insert_rowid()$
SELECT last_insert_rowid();

-- name: events_ticket_id(identifier)$
SELECT id FROM tickets WHERE identifier = :identifier;

-- name: events_last(ticket_id, limit)
-- A ticket's last :limit events, oldest first (the tail without follow).
SELECT seq, event_type, payload_json, ts
  FROM (SELECT seq, event_type, payload_json, ts FROM ticket_events
         WHERE ticket_id = :ticket_id ORDER BY seq DESC LIMIT :limit)
 ORDER BY seq;
