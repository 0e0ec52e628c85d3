-- What workers did on a ticket: its stream-json events.

-- name: transcripts_count_events(ticket_id)$
SELECT count(*) FROM ticket_events WHERE ticket_id = :ticket_id;
