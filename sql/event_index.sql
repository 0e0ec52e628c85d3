-- The indexer of agents' events for search (app/store/event_index.py; table: migration 011).

-- name: event_index_behind()$
-- Whether an event was posted after the last one indexed.
SELECT (SELECT coalesce(max(id), 0) FROM ticket_events) > last_id FROM search_progress WHERE name = 'events';

-- name: event_index_next(batch)^
-- How far the index has read, and the id of the last event of the next :batch to read (NULL: none new).
SELECT p.last_id AS after,
       (SELECT max(id) FROM (SELECT id FROM ticket_events WHERE id > p.last_id ORDER BY id LIMIT :batch)) AS upto
  FROM search_progress p
 WHERE p.name = 'events';

-- name: event_index_add(after, upto)!
-- The messages of events (:after, :upto]: each text, tool call (its name and input) and tool output of a `user`
-- or `assistant` event (as the importer indexes a transcript; app/transcript.py), cut at 20,000 characters.
INSERT INTO event_index (id, ticket_id, seq, kind, tool, content, ts, worker)
SELECT id, ticket_id, seq, kind, tool, substr(content, 1, 20000), ts, worker FROM (
  SELECT e.id * 1000 + b.key AS id, e.ticket_id, e.seq, e.ts, e.worker,
         CASE b.value ->> '$.type' WHEN 'text' THEN e.event_type ELSE b.value ->> '$.type' END AS kind,
         iif(b.value ->> '$.type' = 'tool_use', b.value ->> '$.name', NULL) AS tool,
         CASE b.value ->> '$.type'
           WHEN 'text' THEN b.value ->> '$.text'
           WHEN 'tool_use' THEN coalesce(b.value ->> '$.name', 'tool') || ' ' || coalesce(b.value -> '$.input', '')
           ELSE iif(json_type(b.value, '$.content') = 'text', b.value ->> '$.content',
                    (SELECT group_concat(c.value ->> '$.text', char(10)) FROM json_each(b.value, '$.content') c
                      WHERE c.value ->> '$.type' = 'text'))
         END AS content
    FROM ticket_events e, json_each(e.payload_json, '$.message.content') b
   WHERE e.id > :after AND e.id <= :upto AND e.event_type IN ('assistant', 'user') AND json_valid(e.payload_json)
     AND json_type(e.payload_json, '$.message.content') = 'array'
     AND b.value ->> '$.type' IN ('text', 'tool_use', 'tool_result')
  UNION ALL
  SELECT e.id * 1000, e.ticket_id, e.seq, e.ts, e.worker, e.event_type, NULL, e.payload_json ->> '$.message.content'
    FROM ticket_events e
   WHERE e.id > :after AND e.id <= :upto AND e.event_type IN ('assistant', 'user') AND json_valid(e.payload_json)
     AND json_type(e.payload_json, '$.message.content') = 'text')
 WHERE trim(coalesce(content, '')) != '';

-- name: event_index_fts(after, upto)!
-- Index for search what event_index_add just added (ids are event id × 1000 + place).
INSERT INTO events_fts (rowid, content)
SELECT id, content FROM event_index WHERE id >= (:after + 1) * 1000 AND id < (:upto + 1) * 1000;

-- name: event_index_done(upto)!
UPDATE search_progress SET last_id = :upto WHERE name = 'events';

-- name: event_index_hours(after, upto)!
-- Count the events (:after, :upto] into the hours they were posted in, by worker (the Overview's events per hour,
-- Team's strips).
INSERT INTO event_hours (hour, worker, n)
SELECT substr(ts, 1, 13), coalesce(worker, ''), count(*) FROM ticket_events WHERE id > :after AND id <= :upto
 GROUP BY 1, 2
ON CONFLICT (hour, worker) DO UPDATE SET n = n + excluded.n;
