-- Vibe Kanban's items on our side (app/store/vk.py): which ticket each VK task or issue became, what else came from
-- it (comments, links, runs), and the conflicts settled on the way. Batches pass ids as JSON arrays (json_each).

-- name: vk_known(ids)
-- The tickets these VK ids became, with what they hold now (tags as a JSON array, in order).
SELECT s.vk_project, s.vk_task_id, s.ticket_id, s.content_hash, s.base_json, s.remote_updated_at, s.source, s.state,
       t.identifier, t.title, t.description, t.status, t.priority, t.assigned_to, t.updated_at,
       (SELECT json_group_array(tag) FROM (SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag)) AS tags
  FROM vk_sync s JOIN tickets t ON t.id = s.ticket_id
 WHERE s.vk_task_id IN (SELECT value FROM json_each(:ids));

-- name: vk_ticket_ids(ids)
-- The ticket each of these VK ids became (to link them).
SELECT vk_task_id, ticket_id FROM vk_sync WHERE vk_task_id IN (SELECT value FROM json_each(:ids));

-- name: vk_mapped_in_projects(projects)
-- Every ticket mapped from these VK projects (what a sync finds gone from VK is among them).
SELECT s.vk_task_id, t.identifier
  FROM vk_sync s JOIN tickets t ON t.id = s.ticket_id
 WHERE s.vk_project IN (SELECT value FROM json_each(:projects)) AND s.source = 'task';

-- name: vk_insert_ticket(placeholder, title, description, status, priority, assigned_to, created_at, updated_at)<!
-- A ticket from VK keeps VK's times: the board places it by when it last changed there, not by the import.
INSERT INTO tickets (identifier, title, description, status, priority, assigned_to, created_at, updated_at)
VALUES (:placeholder, :title, :description, :status, :priority, :assigned_to, :created_at, :updated_at);

-- name: vk_save_sync(ticket_id, vk_project, vk_task_id, source, state, content_hash, base_json, remote_updated_at, synced_at)!
INSERT INTO vk_sync (ticket_id, vk_project, vk_task_id, source, state, content_hash, base_json, remote_updated_at,
                     last_synced_at)
VALUES (:ticket_id, :vk_project, :vk_task_id, :source, :state, :content_hash, :base_json, :remote_updated_at,
        :synced_at)
ON CONFLICT (vk_project, vk_task_id) DO UPDATE SET
  ticket_id = excluded.ticket_id, source = excluded.source, state = excluded.state,
  content_hash = excluded.content_hash, base_json = excluded.base_json,
  remote_updated_at = excluded.remote_updated_at, last_synced_at = excluded.last_synced_at;

-- name: vk_set_state(vk_task_id, state)!
UPDATE vk_sync SET state = :state WHERE vk_task_id = :vk_task_id;

-- name: vk_items_known(item_kind, ids)
SELECT vk_id, ticket_id, local_id, content_hash FROM vk_items
 WHERE kind = :item_kind AND vk_id IN (SELECT value FROM json_each(:ids));

-- name: vk_save_item(kind, vk_id, ticket_id, local_id, content_hash)!
INSERT INTO vk_items (kind, vk_id, ticket_id, local_id, content_hash)
VALUES (:kind, :vk_id, :ticket_id, :local_id, :content_hash)
ON CONFLICT (kind, vk_id) DO UPDATE SET
  ticket_id = excluded.ticket_id, local_id = excluded.local_id, content_hash = excluded.content_hash;

-- name: vk_delete_item(kind, vk_id)!
DELETE FROM vk_items WHERE kind = :kind AND vk_id = :vk_id;

-- name: vk_insert_comment(ticket_id, author, body, created_at)<!
-- A comment keeps its author and its time in VK.
INSERT INTO ticket_comments (ticket_id, author, body, created_at) VALUES (:ticket_id, :author, :body, :created_at);

-- name: vk_update_comment(id, author, body)!
UPDATE ticket_comments SET author = :author, body = :body WHERE id = :id;

-- name: vk_delete_link(id)!
DELETE FROM ticket_relationships WHERE id = :id;

-- name: vk_insert_events(rows)!
-- A run's events with their own times: :rows is a JSON array of [id, ticket_id, seq, event_type, payload_json,
-- uuid, ts, worker]; ids and seqs are given out by the caller inside this transaction (as app/ingest.py does).
INSERT INTO ticket_events (id, ticket_id, seq, event_type, payload_json, uuid, ts, worker)
SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6,
       r.value ->> 7
  FROM json_each(:rows) r;

-- name: vk_insert_conflict(ticket_id, vk_task_id, field, ours, theirs, ours_updated_at, theirs_updated_at, winner, via)!
INSERT INTO vk_conflicts (ticket_id, vk_task_id, field, ours, theirs, ours_updated_at, theirs_updated_at, winner, via)
VALUES (:ticket_id, :vk_task_id, :field, :ours, :theirs, :ours_updated_at, :theirs_updated_at, :winner, :via);

-- name: vk_conflicts_recent(limit)
SELECT c.id, t.identifier, c.vk_task_id, c.field, c.ours, c.theirs, c.winner, c.via, c.created_at
  FROM vk_conflicts c LEFT JOIN tickets t ON t.id = c.ticket_id
 ORDER BY c.id DESC LIMIT :limit;

-- name: vk_confirm_push(vk_task_id, content_hash, base_json, remote_updated_at, synced_at)!
-- VK took a status changed here: that is now what both sides agree on.
UPDATE vk_sync
   SET state = 'synced', content_hash = :content_hash, base_json = :base_json, remote_updated_at = :remote_updated_at,
       last_synced_at = :synced_at
 WHERE vk_task_id = :vk_task_id;
