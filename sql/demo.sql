-- Demo data for `mc demo` (app/demo/). Every insert is an executemany: call with a list of dicts.
-- Rows carry explicit ids and timestamps so the demo looks like a few months of real use.

-- name: demo_count_tickets()$
SELECT count(*) FROM tickets;

-- name: demo_insert_tickets(id, identifier, title, description, status, priority, assigned_to, created_at, updated_at)*!
INSERT INTO tickets (id, identifier, title, description, status, priority, assigned_to,
                     created_at, updated_at)
VALUES (:id, :identifier, :title, :description, :status, :priority, :assigned_to, :created_at, :updated_at);

-- name: demo_insert_tags(ticket_id, tag)*!
INSERT INTO ticket_tags (ticket_id, tag) VALUES (:ticket_id, :tag);

-- name: demo_insert_comments(ticket_id, author, body, created_at)*!
INSERT INTO ticket_comments (ticket_id, author, body, created_at)
VALUES (:ticket_id, :author, :body, :created_at);

-- name: demo_insert_events(ticket_id, seq, event_type, payload_json, uuid, ts, worker)*!
INSERT INTO ticket_events (ticket_id, seq, event_type, payload_json, uuid, ts, worker)
VALUES (:ticket_id, :seq, :event_type, :payload_json, :uuid, :ts, :worker);

-- name: demo_insert_worker_activity(worker, ticket_id, last_seq, last_type, last_at)*!
INSERT INTO worker_activity (worker, ticket_id, last_seq, last_type, last_at)
VALUES (:worker, :ticket_id, :last_seq, :last_type, :last_at);

-- name: demo_insert_relationships(source_id, target_id, rel_type, created_at)*!
INSERT INTO ticket_relationships (source_id, target_id, rel_type, created_at)
VALUES (:source_id, :target_id, :rel_type, :created_at);

-- name: demo_insert_context(ticket_id, vault_path, action, source, note, created_at)*!
INSERT INTO ticket_context (ticket_id, vault_path, action, source, note, created_at)
VALUES (:ticket_id, :vault_path, :action, :source, :note, :created_at);

-- name: demo_insert_sessions(id, agent, title, ticket_id, started_at, ended_at, last_at, message_count)*!
INSERT INTO sessions (id, agent, title, ticket_id, started_at, ended_at, last_at, message_count)
VALUES (:id, :agent, :title, :ticket_id, :started_at, :ended_at, :last_at, :message_count);

-- name: demo_insert_session_turns(session_id, turn, role, content, ts)*!
-- (demo_index_sessions indexes them for search, once all are in.)
INSERT INTO sessions_index (session_id, turn, role, content, ts)
VALUES (:session_id, :turn, :role, :content, :ts);

-- name: demo_insert_queued_messages(ticket_id, worker, body, status, attempts, lease_owner, lease_expires_at, next_attempt_at, last_error, alerted_at, created_at, updated_at)*!
INSERT INTO queued_messages (ticket_id, worker, body, status, attempts, lease_owner, lease_expires_at,
                             next_attempt_at, last_error, alerted_at, created_at, updated_at)
VALUES (:ticket_id, :worker, :body, :status, :attempts, :lease_owner, :lease_expires_at,
        :next_attempt_at, :last_error, :alerted_at, :created_at, :updated_at);

-- name: demo_insert_task_runs(task_name, status, started_at, finished_at, duration_ms, output)*!
INSERT INTO task_runs (task_name, status, started_at, finished_at, duration_ms, output)
VALUES (:task_name, :status, :started_at, :finished_at, :duration_ms, :output);

-- name: demo_insert_heartbeats(worker, ticket_id, status, detail, ts)*!
INSERT INTO heartbeats (worker, ticket_id, status, detail, ts)
VALUES (:worker, :ticket_id, :status, :detail, :ts);

-- name: demo_insert_vk_sync(ticket_id, vk_project, vk_task_id, state, last_synced_at)*!
INSERT INTO vk_sync (ticket_id, vk_project, vk_task_id, state, last_synced_at)
VALUES (:ticket_id, :vk_project, :vk_task_id, :state, :last_synced_at);

-- name: demo_index_sessions()!
INSERT INTO sessions_fts (rowid, content) SELECT id, content FROM sessions_index;
