-- A ticket's links: relationships to other tickets, and the vault files it used (ticket_context).

-- name: links_ticket_ref(identifier)^
-- Just enough of a ticket to link it and to say which one it is.
SELECT id, identifier, title, status FROM tickets WHERE identifier = :identifier;

-- name: links_of_ticket(ticket_id)
-- Links from both ends: outgoing = 1 when this ticket is the source (read "blocks X"), 0 when it is the
-- target (read "blocked by X"); `other_*` is always the ticket at the far end.
SELECT r.id, r.rel_type, 1 AS outgoing, t.identifier AS other_identifier, t.title AS other_title,
       t.status AS other_status, r.created_at
  FROM ticket_relationships r JOIN tickets t ON t.id = r.target_id
 WHERE r.source_id = :ticket_id
UNION ALL
SELECT r.id, r.rel_type, 0 AS outgoing, t.identifier, t.title, t.status, r.created_at
  FROM ticket_relationships r JOIN tickets t ON t.id = r.source_id
 WHERE r.target_id = :ticket_id
 ORDER BY 7, 1;

-- name: links_exists(source_id, target_id, rel_type, either_way)$
-- The same link already there; with :either_way, in either direction (for the types that read both ways).
SELECT EXISTS (
  SELECT 1 FROM ticket_relationships
   WHERE rel_type = :rel_type
     AND ((source_id = :source_id AND target_id = :target_id)
          OR (:either_way AND source_id = :target_id AND target_id = :source_id))
);

-- name: links_reaches(rel_type, start_id, goal_id)$
-- Whether :goal_id can be reached from :start_id by following :rel_type links from source to target.
-- Adding source -> target closes a cycle exactly when the target already reaches the source. UNION (not
-- UNION ALL) visits each ticket once, so this ends even on a graph that somehow holds a cycle already.
WITH RECURSIVE reach (id) AS (
  SELECT :start_id
  UNION
  SELECT r.target_id
    FROM ticket_relationships r JOIN reach ON r.source_id = reach.id
   WHERE r.rel_type = :rel_type
)
SELECT EXISTS (SELECT 1 FROM reach WHERE id = :goal_id);

-- name: links_insert(source_id, target_id, rel_type)<!
INSERT INTO ticket_relationships (source_id, target_id, rel_type) VALUES (:source_id, :target_id, :rel_type);

-- name: links_by_id(id)^
SELECT r.id, r.rel_type AS type, s.identifier AS source, t.identifier AS target, r.created_at
  FROM ticket_relationships r
  JOIN tickets s ON s.id = r.source_id
  JOIN tickets t ON t.id = r.target_id
 WHERE r.id = :id;

-- name: links_delete_of_ticket(id, ticket_id)!
-- Remove one link, but only one that touches this ticket (from either end).
DELETE FROM ticket_relationships WHERE id = :id AND (source_id = :ticket_id OR target_id = :ticket_id);

-- name: links_delete_between(source_id, target_id, rel_type, either_way)!
DELETE FROM ticket_relationships
 WHERE rel_type = :rel_type
   AND ((source_id = :source_id AND target_id = :target_id)
        OR (:either_way AND source_id = :target_id AND target_id = :source_id));

-- name: links_context_of_ticket(ticket_id)
SELECT id, vault_path, action, source, note, created_at
  FROM ticket_context WHERE ticket_id = :ticket_id ORDER BY created_at, id;

-- name: links_context_find(ticket_id, vault_path, action)^
SELECT id, vault_path, action, source, note, created_at
  FROM ticket_context WHERE ticket_id = :ticket_id AND vault_path = :vault_path AND action = :action;

-- name: links_context_by_id(id)^
SELECT id, vault_path, action, source, note, created_at FROM ticket_context WHERE id = :id;

-- name: links_context_insert(ticket_id, vault_path, action, source, note)<!
INSERT INTO ticket_context (ticket_id, vault_path, action, source, note)
VALUES (:ticket_id, :vault_path, :action, :source, :note);

-- name: links_context_delete_of_ticket(id, ticket_id)!
-- Only a link of this ticket: an id from another ticket deletes nothing (and the caller answers 404).
DELETE FROM ticket_context WHERE id = :id AND ticket_id = :ticket_id;
