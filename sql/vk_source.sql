-- Reading a Vibe Kanban database (its db.sqlite, opened read-only by app/store/vk_source.py; never ours).
-- Its tables differ between releases (columns were added, renamed and dropped across its migrations), so rows are
-- read whole (SELECT *) and Python picks the columns it knows by name; which tables exist decides what is read.

-- name: vk_source_busy_timeout()!
-- Vibe Kanban writes in journal mode DELETE: a read may wait (5 s) for one of its writes to finish.
PRAGMA busy_timeout = 5000;

-- name: vk_source_query_only()!
PRAGMA query_only = ON;

-- name: vk_source_tables()
SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;

-- name: vk_source_migrations()^
-- sqlx's record of the migrations applied: how many, and the newest (its timestamp-like version).
SELECT count(*) AS n, max(version) AS last FROM _sqlx_migrations WHERE success;

-- name: vk_source_projects()
SELECT * FROM projects ORDER BY created_at, id;

-- name: vk_source_tasks()
SELECT * FROM tasks ORDER BY created_at, id;

-- name: vk_source_workspaces()
SELECT * FROM workspaces;

-- name: vk_source_sessions()
SELECT * FROM sessions;

-- name: vk_source_runs()
SELECT * FROM execution_processes ORDER BY created_at, id;

-- name: vk_source_turns()
-- A run's prompt and summary (its latest turn when there are several).
SELECT * FROM coding_agent_turns ORDER BY created_at, id;

-- name: vk_source_log_sizes()
-- Each run's log, as how many chunks, bytes and its newest chunk's time: a run whose log did not move since the
-- last import is not read again.
SELECT execution_id, count(*) AS chunks, sum(byte_size) AS bytes, max(inserted_at) AS last
  FROM execution_process_logs GROUP BY execution_id;

-- name: vk_source_run_log(execution_id)
-- One run's log, chunk by chunk, in the order VK appended them.
SELECT logs, inserted_at FROM execution_process_logs WHERE execution_id = :execution_id ORDER BY inserted_at, rowid;

-- name: vk_source_tags()
SELECT * FROM tags ORDER BY tag_name;

-- name: vk_source_issues()
SELECT * FROM local_issues ORDER BY created_at, id;

-- name: vk_source_statuses()
SELECT * FROM local_project_statuses;

-- name: vk_source_issue_tags()
SELECT it.issue_id, t.name FROM local_issue_tags it JOIN local_tags t ON t.id = it.tag_id ORDER BY t.name;

-- name: vk_source_relationships()
SELECT * FROM local_issue_relationships ORDER BY created_at, id;

-- name: vk_source_comments()
SELECT * FROM local_issue_comments ORDER BY created_at, id;

-- name: vk_source_users()
SELECT * FROM remote_users;

-- name: vk_source_assignees()
SELECT * FROM local_issue_assignees;

-- name: vk_source_workspace_links()
SELECT * FROM local_workspace_links;
