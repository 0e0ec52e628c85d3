-- Worker events in (app/store/ingest.py): a batch's checks and inserts through the single writer.
-- Batches pass ids and pairs as JSON arrays (json_each), so a whole batch is a few statements.

-- name: ingest_batch_start(ids)
-- What a batch needs to know first, in one statement: which of its tickets still exist (it skips events for
-- a ticket deleted meanwhile), the last seq each gave out (one index probe each: a GROUP BY would read every
-- event of the ticket), and the last rowid given out (the batch's rows take the ones after it; see
-- migration 005 for why that is not simply the table's last).
SELECT t.id AS ticket_id,
       coalesce((SELECT max(e.seq) FROM ticket_events e WHERE e.ticket_id = t.id), 0) AS seq,
       max((SELECT coalesce(max(id), 0) FROM ticket_events), (SELECT top_id FROM events_high_water)) AS last_rowid
  FROM tickets t
 WHERE t.id IN (SELECT value FROM json_each(:ids));

-- name: ingest_known_uuids(pairs)
-- Events already stored under these (ticket_id, uuid) pairs: a retried POST gets the first seq back.
SELECT e.ticket_id, e.uuid, e.seq
  FROM json_each(:pairs) p
  JOIN ticket_events e ON e.ticket_id = json_extract(p.value, '$[0]') AND e.uuid = json_extract(p.value, '$[1]');

-- name: ingest_known_keys(pairs)
-- Idempotency-Keys already used on these tickets, with the seqs they were answered with.
SELECT k.ticket_id, k.key, k.seqs
  FROM json_each(:pairs) p
  JOIN ingest_keys k ON k.ticket_id = json_extract(p.value, '$[0]') AND k.key = json_extract(p.value, '$[1]');

-- name: ingest_events(rows, payloads, ts)!
-- A whole batch in one statement: :rows is a JSON array of [id, ticket_id, seq, event_type, payload offset,
-- payload length, uuid, worker], and :payloads the events' JSON one after the other, as a blob: substr() cuts a
-- blob by bytes, and the cast gives back the exact UTF-8 text that was posted (no escaping into JSON and
-- back). One statement, because SQLite then inserts every row without coming back to Python (executemany
-- takes the GIL back for each row, and waits for the event loop to give it up). The rowid is given, not
-- inferred: the broker and the poller know each row by it.
INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json, uuid, ts, worker)
SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3,
       CAST(substr(:payloads, r.value ->> 4, r.value ->> 5) AS TEXT), r.value ->> 6, :ts, r.value ->> 7
  FROM json_each(:rows) r;

-- name: ingest_events_if_unchanged(rows, payloads, ts, last_rowid, tickets, uuids, keys)!
-- A batch in one trip, planned from what the writer's previous batch left: insert :rows (as events_insert)
-- if the last rowid given out (as in events_batch_start) is still :last_rowid, every ticket of :tickets
-- ([id, last seq]) still exists with that last seq, and none of :uuids ([ticket_id, uuid]) nor :keys
-- ([ticket_id, key]) is stored.
-- Otherwise every seq is NULL and the NOT NULL constraint aborts the statement, which inserts nothing and
-- leaves the transaction open for the long way. (Not a WHERE and RETURNING: fetching one row per event
-- takes the GIL back for each; this statement returns once.)
WITH unchanged AS (
  SELECT max((SELECT coalesce(max(id), 0) FROM ticket_events), (SELECT top_id FROM events_high_water)) = :last_rowid
     AND NOT EXISTS (
           SELECT 1 FROM json_each(:tickets) t
            WHERE NOT EXISTS (SELECT 1 FROM tickets WHERE id = t.value ->> 0)
               OR (SELECT coalesce(max(seq), 0) FROM ticket_events WHERE ticket_id = t.value ->> 0)
                  <> t.value ->> 1)
     AND NOT EXISTS (
           SELECT 1 FROM json_each(:uuids) u
             JOIN ticket_events e ON e.ticket_id = u.value ->> 0 AND e.uuid = u.value ->> 1)
     AND NOT EXISTS (
           SELECT 1 FROM json_each(:keys) k
             JOIN ingest_keys i ON i.ticket_id = k.value ->> 0 AND i.key = k.value ->> 1) AS yes
)
INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json, uuid, ts, worker)
SELECT r.value ->> 0, r.value ->> 1, iif(unchanged.yes, r.value ->> 2, NULL), r.value ->> 3,
       CAST(substr(:payloads, r.value ->> 4, r.value ->> 5) AS TEXT), r.value ->> 6, :ts, r.value ->> 7
  FROM json_each(:rows) r, unchanged;

-- name: ingest_keys(keys)!
-- The Idempotency-Keys a batch answered, in one statement: :keys is a JSON array of [ticket_id, key, seqs].
INSERT INTO ingest_keys (ticket_id, key, seqs)
SELECT k.value ->> 0, k.value ->> 1, k.value -> 2 FROM json_each(:keys) k;

-- name: ingest_activity(rows)!
-- What each worker did last on each ticket: :rows is a JSON array of [worker, ticket_id, last seq, last event
-- type, when] (app/ingest.py writes a pair at once when its run starts or ends, otherwise at most every second).
INSERT INTO worker_activity (worker, ticket_id, last_seq, last_type, last_at)
SELECT a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3, a.value ->> 4 FROM json_each(:rows) a
 WHERE true
ON CONFLICT (worker, ticket_id) DO UPDATE SET
  last_seq = excluded.last_seq, last_type = excluded.last_type, last_at = excluded.last_at
 WHERE excluded.last_seq > worker_activity.last_seq;

-- name: ingest_announce(rows)!
-- News for the board: a run started, ended, or moved on (at most every few seconds per worker and ticket;
-- app/ingest.py decides). :rows is a JSON array of [worker, ticket_id, ended].
INSERT INTO broadcasts (kind, ticket_id, body)
SELECT 'run', a.value ->> 1, json_object('worker', a.value ->> 0, 'ended', json(iif(a.value ->> 2, 'true', 'false')))
  FROM json_each(:rows) a;
