-- name: insert_ticket(placeholder, title, description, status, priority, assigned_to)<!
INSERT INTO tickets (identifier, title, description, status, priority, assigned_to)
VALUES (:placeholder, :title, :description, :status, :priority, :assigned_to);

-- name: set_identifier(prefix, id)!
-- Identifiers come from the never-reused AUTOINCREMENT id, set in the same transaction as the insert.
UPDATE tickets SET identifier = :prefix || '-' || id WHERE id = :id;

-- name: ticket_by_identifier(identifier)^
SELECT id, identifier, title, description, status, priority, assigned_to, created_at, updated_at
  FROM tickets WHERE identifier = :identifier;

-- name: board_column(status, limit)
-- The newest-updated cards of one column; served by the tickets_board index (no scan, no sort).
SELECT t.id, t.identifier, t.title, t.status, t.priority, t.assigned_to, t.updated_at,
       (SELECT group_concat(tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.status = :status
 ORDER BY t.updated_at DESC, t.id DESC
 LIMIT :limit;

-- name: board_column_after(status, updated_at, id, limit)
-- The next page of a column after the card (updated_at, id): keyset paging, no OFFSET.
SELECT t.id, t.identifier, t.title, t.status, t.priority, t.assigned_to, t.updated_at,
       (SELECT group_concat(tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.status = :status AND (t.updated_at, t.id) < (:updated_at, :id)
 ORDER BY t.updated_at DESC, t.id DESC
 LIMIT :limit;

-- name: count_by_status()
SELECT status, count(*) AS n FROM tickets GROUP BY status;

-- name: comments_of_ticket(ticket_id)
SELECT id, author, body, created_at FROM ticket_comments WHERE ticket_id = :ticket_id ORDER BY id;

-- name: tags_of_ticket(ticket_id)
SELECT tag FROM ticket_tags WHERE ticket_id = :ticket_id ORDER BY tag;

-- name: add_tag(ticket_id, tag)!
INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (:ticket_id, :tag);

-- name: insert_comment(ticket_id, author, body)<!
INSERT INTO ticket_comments (ticket_id, author, body) VALUES (:ticket_id, :author, :body);

-- name: touch_ticket(ticket_id)!
UPDATE tickets SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = :ticket_id;
