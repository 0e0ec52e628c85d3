-- name: tickets_insert(placeholder, title, description, status, priority, assigned_to)<!
-- sort_key is filled by the tickets_default_sort_key trigger: a new ticket tops its column.
INSERT INTO tickets (identifier, title, description, status, priority, assigned_to)
VALUES (:placeholder, :title, :description, :status, :priority, :assigned_to);

-- name: tickets_set_identifier(prefix, id)!
-- Identifiers come from the never-reused AUTOINCREMENT id, set in the same transaction as the insert.
UPDATE tickets SET identifier = :prefix || '-' || id WHERE id = :id;

-- name: tickets_by_identifier(identifier)^
SELECT id, identifier, title, description, status, priority, assigned_to, created_at, updated_at
  FROM tickets WHERE identifier = :identifier;

-- name: tickets_place(identifier)^
-- Where a card sits: its column and its key.
SELECT id, status, sort_key FROM tickets WHERE identifier = :identifier;

-- name: tickets_update(id, title, description, priority, set_assignee, assigned_to)!
-- Change fields; NULL leaves a field alone (assigned_to only changes when :set_assignee is 1).
-- An edit moves a card to the top of its column unless the user placed it by hand.
UPDATE tickets
   SET title = coalesce(:title, title),
       description = coalesce(:description, description),
       priority = coalesce(:priority, priority),
       assigned_to = CASE WHEN :set_assignee THEN :assigned_to ELSE assigned_to END,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       placed_at = CASE WHEN manual_order THEN placed_at ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END,
       sort_key = CASE WHEN manual_order THEN sort_key
                       ELSE (julianday('now') - 2440587.5) * 86400000.0 END
 WHERE id = :id;

-- name: tickets_move_to_top(id, status)!
-- Move a card into a column, on top, ordered by recency again.
UPDATE tickets
   SET status = :status, manual_order = 0,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       placed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       sort_key = max((julianday('now') - 2440587.5) * 86400000.0,
                      coalesce((SELECT max(sort_key) + 1 FROM tickets WHERE status = :status), 0))
 WHERE id = :id;

-- name: tickets_move_to_key(id, status, sort_key)!
-- Place a card by hand at a key between its new neighbours.
UPDATE tickets
   SET status = :status, manual_order = 1, sort_key = :sort_key,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       placed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
 WHERE id = :id;

-- name: tickets_delete(id)!
DELETE FROM tickets WHERE id = :id;

-- name: tickets_comments(ticket_id)
SELECT id, author, body, created_at FROM ticket_comments WHERE ticket_id = :ticket_id ORDER BY id;

-- name: tickets_tags(ticket_id)
SELECT tag FROM ticket_tags WHERE ticket_id = :ticket_id ORDER BY tag;

-- name: tickets_add_tag(ticket_id, tag)!
INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (:ticket_id, :tag);

-- name: tickets_clear_tags(ticket_id)!
DELETE FROM ticket_tags WHERE ticket_id = :ticket_id;

-- name: tickets_insert_comment(ticket_id, author, body)<!
INSERT INTO ticket_comments (ticket_id, author, body) VALUES (:ticket_id, :author, :body);

-- name: tickets_touch(ticket_id)!
UPDATE tickets
   SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       placed_at = CASE WHEN manual_order THEN placed_at ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END,
       sort_key = CASE WHEN manual_order THEN sort_key
                       ELSE (julianday('now') - 2440587.5) * 86400000.0 END
 WHERE id = :ticket_id;

-- name: tickets_comment_by_id(id)^
SELECT id, author, body, created_at FROM ticket_comments WHERE id = :id;

-- name: tickets_set_place(id, sort_key)!
-- Re-space one card within its column (its order among the others does not change).
UPDATE tickets SET sort_key = :sort_key, placed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = :id;

-- name: tickets_page_version(identifier)^
-- What the ticket page shows, as a version (each part an index probe): the ticket's own row, its last event,
-- comments, messages to workers, vault files, links (from either end) and sessions, and the board's versions, which move
-- with any change to any ticket or tag (the linked tickets' states, the assignee and tag suggestions).
SELECT t.id AS ticket_id,
       t.updated_at,
       (SELECT coalesce(max(seq), 0) FROM ticket_events WHERE ticket_id = t.id) AS last_seq,
       (SELECT count(*) || '/' || coalesce(max(id), 0) FROM ticket_comments WHERE ticket_id = t.id) AS comments,
       (SELECT count(*) || '/' || coalesce(max(updated_at), '') FROM queued_messages WHERE ticket_id = t.id) AS sent,
       (SELECT count(*) || '/' || coalesce(max(id), 0) FROM ticket_context WHERE ticket_id = t.id) AS context,
       (SELECT count(*) || '/' || coalesce(max(id), 0) FROM ticket_relationships
         WHERE source_id = t.id OR target_id = t.id) AS links,
       (SELECT count(*) || '/' || coalesce(max(coalesce(last_at, started_at)), '') FROM sessions
         WHERE ticket_id = t.id) AS sessions,
       (SELECT group_concat(version, '/') FROM board_state) AS board
  FROM tickets t
 WHERE t.identifier = :identifier;
