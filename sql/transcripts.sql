-- What workers said and did on a ticket: its messages and its stream-json events.

-- name: transcripts_newest_messages(ticket_id, limit)
-- The newest :limit messages (-1: all), oldest first, so the newest sits at the bottom.
SELECT id, kind, tool_name, content, created_at
  FROM (SELECT id, kind, tool_name, content, created_at
          FROM ticket_messages WHERE ticket_id = :ticket_id ORDER BY id DESC LIMIT :limit)
 ORDER BY id;

-- name: transcripts_count_messages(ticket_id)$
SELECT count(*) FROM ticket_messages WHERE ticket_id = :ticket_id;

-- name: transcripts_count_events(ticket_id)$
SELECT count(*) FROM ticket_events WHERE ticket_id = :ticket_id;
