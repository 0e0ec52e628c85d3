-- name: listing_tickets(status, assignee, tag, priority, match, before_id, limit)
-- The JSON API's ticket list, newest-created first: keyset paging on the primary key (ids only grow, so a
-- ticket created between two page requests lands above page one and never shifts later pages), never OFFSET.
-- The first page passes the largest id there can be as :before_id, so `t.id < :before_id` is always a range
-- on the rowid. Filters are optional (NULL = any); :assignee '' means unassigned; :match is an FTS5 query
-- already quoted by app/search.py.
SELECT t.id, t.identifier, t.title, t.description, t.status, t.priority, t.assigned_to,
       t.created_at, t.updated_at,
       (SELECT group_concat(g.tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.id < :before_id
   AND (:status IS NULL OR t.status = :status)
   AND (:assignee IS NULL OR coalesce(t.assigned_to, '') = :assignee)
   AND (:priority IS NULL OR t.priority = :priority)
   AND (:tag IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = :tag))
   AND (:match IS NULL OR t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match))
 ORDER BY t.id DESC
 LIMIT :limit;

-- name: listing_ticket(identifier)^
-- One ticket with its tags, as the JSON API shows it.
SELECT t.id, t.identifier, t.title, t.description, t.status, t.priority, t.assigned_to,
       t.created_at, t.updated_at,
       (SELECT group_concat(g.tag, ' ') FROM ticket_tags g WHERE g.ticket_id = t.id) AS tags
  FROM tickets t
 WHERE t.identifier = :identifier;
