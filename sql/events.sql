-- Worker events read back (app/store/events.py): replay after a seq, the newest few, a ticket's row id.

-- name: events_after(ticket_id, after, limit)
-- Replay: a ticket's events after a seq, in order.
SELECT id AS rowid, ticket_id, seq, event_type, payload_json, ts, worker FROM ticket_events
 WHERE ticket_id = :ticket_id AND seq > :after ORDER BY seq LIMIT :limit;

-- name: events_ticket_id(identifier)$
SELECT id FROM tickets WHERE identifier = :identifier;

-- name: events_newest(ticket_id, limit)
-- A ticket's newest :limit events (-1: all), oldest first: the tail without follow, the ticket page.
SELECT rowid, ticket_id, seq, event_type, payload_json, ts, worker
  FROM (SELECT id AS rowid, ticket_id, seq, event_type, payload_json, ts, worker FROM ticket_events
         WHERE ticket_id = :ticket_id ORDER BY seq DESC LIMIT :limit)
 ORDER BY seq;

-- name: events_before(ticket_id, before, limit)
-- A page further back: the :limit events just before seq :before, oldest first (keyset: the page before it
-- starts at this one's first seq).
SELECT rowid, ticket_id, seq, event_type, payload_json, ts, worker
  FROM (SELECT id AS rowid, ticket_id, seq, event_type, payload_json, ts, worker FROM ticket_events
         WHERE ticket_id = :ticket_id AND seq < :before ORDER BY seq DESC LIMIT :limit)
 ORDER BY seq;

-- name: events_run_start(ticket_id, seq)$
-- Where the run holding event :seq began (1: none): after the last result before it, or at a later `init`, unless
-- all that came between them was the person's messages (an interactive session stores the person's first message
-- before its agent starts up: that `init` joins the run the message began). As app/run_view.py folds.
WITH mark AS (
  SELECT coalesce(max(CASE WHEN event_type = 'result' THEN seq + 1 ELSE seq END), 1) AS at_init,
         coalesce(max(CASE WHEN event_type = 'result' THEN seq + 1 END), 1) AS after_result
    FROM ticket_events
   WHERE ticket_id = :ticket_id AND seq <= :seq AND event_type IN ('system', 'result')
     AND ((event_type = 'result' AND seq < :seq) OR json_extract(payload_json, '$.subtype') = 'init'))
SELECT CASE WHEN EXISTS (SELECT 1 FROM ticket_events
                          WHERE ticket_id = :ticket_id AND seq >= after_result AND seq < at_init
                            AND NOT (event_type = 'user' AND worker IS NULL))
            THEN at_init ELSE after_result END
  FROM mark;

-- name: events_identifier(ticket_id)$
SELECT identifier FROM tickets WHERE id = :ticket_id;

-- name: events_last_seq(ticket_id)$
-- A ticket's last seq (0: none): with it, a page knows whether its folded runs are still what it has.
SELECT coalesce(max(seq), 0) FROM ticket_events WHERE ticket_id = :ticket_id;
