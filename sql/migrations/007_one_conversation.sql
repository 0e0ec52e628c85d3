-- One store for a ticket's agent conversation: the events. ticket_messages was a second, separate transcript
-- (only `mc demo` ever wrote it) that could disagree with them; its rows become stream-json events appended
-- to their ticket's, and ticket_messages becomes a view of the events' content blocks, in the seed's shape
-- (kind thinking, tool_use, assistant or user), so whatever reads it still can and it can never disagree.
CREATE TEMP TABLE moved AS
SELECT m.id AS message_id, m.ticket_id, m.created_at,
       (SELECT coalesce(max(e.seq), 0) FROM ticket_events e WHERE e.ticket_id = m.ticket_id)
         + row_number() OVER (PARTITION BY m.ticket_id ORDER BY m.created_at, m.id) AS seq,
       CASE m.kind WHEN 'user' THEN 'user' ELSE 'assistant' END AS event_type,
       json_object(
         'type', CASE m.kind WHEN 'user' THEN 'user' ELSE 'assistant' END,
         'message', json_object(
           'role', CASE m.kind WHEN 'user' THEN 'user' ELSE 'assistant' END,
           'content', json_array(CASE m.kind
             WHEN 'thinking' THEN json_object('type', 'thinking', 'thinking', m.content)
             WHEN 'tool_use' THEN json_object('type', 'tool_use', 'id', 'toolu_moved_' || m.id,
                                              'name', coalesce(m.tool_name, 'tool'),
                                              'input', json_object('description', m.content))
             ELSE json_object('type', 'text', 'text', m.content) END)))
         AS payload_json
  FROM ticket_messages m;

INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json, ts)
SELECT (SELECT max(coalesce((SELECT max(id) FROM ticket_events), 0), top_id) FROM events_high_water)
         + row_number() OVER (ORDER BY created_at, message_id),
       ticket_id, seq, event_type, payload_json, created_at
  FROM moved;
DROP TABLE moved;

DROP TABLE ticket_messages;

CREATE VIEW ticket_messages (id, event_id, ticket_id, kind, tool_name, content, created_at) AS
SELECT e.id * 1000 + b.key, e.id, e.ticket_id,
       CASE json_extract(b.value, '$.type')
         WHEN 'thinking' THEN 'thinking' WHEN 'tool_use' THEN 'tool_use'
         WHEN 'tool_result' THEN 'user' ELSE e.event_type END,
       CASE WHEN json_extract(b.value, '$.type') = 'tool_use' THEN json_extract(b.value, '$.name') END,
       CASE json_extract(b.value, '$.type')
         WHEN 'text' THEN json_extract(b.value, '$.text')
         WHEN 'thinking' THEN json_extract(b.value, '$.thinking')
         WHEN 'tool_use' THEN json(json_extract(b.value, '$.input'))
         ELSE json_extract(b.value, '$.content') END,
       e.ts
  FROM ticket_events e, json_each(e.payload_json, '$.message.content') b
 WHERE e.event_type IN ('assistant', 'user')
   AND json_type(e.payload_json, '$.message.content') = 'array'
   AND json_extract(b.value, '$.type') IN ('text', 'thinking', 'tool_use', 'tool_result')
UNION ALL
SELECT e.id * 1000, e.id, e.ticket_id, e.event_type, NULL, json_extract(e.payload_json, '$.message.content'), e.ts
  FROM ticket_events e
 WHERE e.event_type IN ('assistant', 'user')
   AND json_type(e.payload_json, '$.message.content') = 'text';

PRAGMA user_version = 7;
