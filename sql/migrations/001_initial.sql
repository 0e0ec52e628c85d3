-- Mission Control's first schema: every table the seed names, plus api_tokens and login_sessions.
-- Timestamps are UTC ISO-8601 text with milliseconds ('2026-11-27T23:41:05.123Z') so they sort as text.
-- application_id marks the file as ours, so `mc` refuses to migrate somebody else's database.
PRAGMA application_id = 1296254285;  -- 'MC01' as a big-endian int

CREATE TABLE tickets (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused, so identifiers never are
  identifier   TEXT    NOT NULL UNIQUE,                  -- 'MC-747'; the prefix is a setting
  title        TEXT    NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 300),
  description  TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL DEFAULT 'backlog'
               CHECK (status IN ('backlog', 'todo', 'in_progress', 'review', 'blocked', 'done')),
  priority     INTEGER NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 4),  -- 1 urgent … 4 low
  assigned_to  TEXT,
  position     REAL,                                     -- manual order within a column, NULL = by recency
  created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- The board asks for "the newest N of one status": this index answers it without a scan or a sort.
CREATE INDEX tickets_board ON tickets (status, updated_at DESC, id DESC);
CREATE INDEX tickets_assignee ON tickets (assigned_to, status);

CREATE TABLE ticket_comments (
  id          INTEGER PRIMARY KEY,
  ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  author      TEXT    NOT NULL,
  body        TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

CREATE TABLE ticket_messages (
  id          INTEGER PRIMARY KEY,
  ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  kind        TEXT    NOT NULL CHECK (kind IN ('thinking', 'tool_use', 'assistant', 'user')),
  tool_name   TEXT,                                      -- set for tool_use
  content     TEXT    NOT NULL,
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Stream-json events from workers (the seed's MC-747). seq is per ticket, from 1, without gaps.
CREATE TABLE ticket_events (
  id            INTEGER PRIMARY KEY,
  ticket_id     INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  event_type    TEXT    NOT NULL,
  payload_json  TEXT    NOT NULL CHECK (json_valid(payload_json)),
  uuid          TEXT,                                    -- the agent's event uuid, for idempotent retries
  ts            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (ticket_id, seq)
);
CREATE UNIQUE INDEX ticket_events_uuid ON ticket_events (ticket_id, uuid) WHERE uuid IS NOT NULL;

CREATE TABLE ticket_tags (
  ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  tag        TEXT    NOT NULL CHECK (length(tag) BETWEEN 1 AND 40),
  PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id);

CREATE TABLE ticket_relationships (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  target_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  rel_type    TEXT    NOT NULL
              CHECK (rel_type IN ('blocks', 'duplicate_of', 'caused_by', 'child_of', 'relates_to', 'related_to')),
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  CHECK (source_id <> target_id),
  UNIQUE (source_id, target_id, rel_type)
);
CREATE INDEX ticket_relationships_target ON ticket_relationships (target_id);

-- Ticket <-> vault bridge (the seed's MC-462).
CREATE TABLE ticket_context (
  id          INTEGER PRIMARY KEY,
  ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  vault_path  TEXT    NOT NULL CHECK (length(vault_path) BETWEEN 1 AND 1000),
  action      TEXT    NOT NULL DEFAULT 'consulted' CHECK (action IN ('consulted', 'updated', 'created')),
  source      TEXT    NOT NULL DEFAULT 'manual' CHECK (source IN ('auto', 'manual')),
  note        TEXT    NOT NULL DEFAULT '',
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (ticket_id, vault_path, action)
);

-- Registered Claude sessions (both Luci and Lucienne) and their indexed transcripts.
CREATE TABLE sessions (
  id          TEXT    PRIMARY KEY,                       -- the agent's session id
  agent       TEXT    NOT NULL,
  title       TEXT    NOT NULL DEFAULT '',
  ticket_id   INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
  started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  ended_at    TEXT
);
CREATE INDEX sessions_started ON sessions (started_at DESC);

CREATE TABLE sessions_index (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  turn        INTEGER NOT NULL,
  role        TEXT    NOT NULL,
  content     TEXT    NOT NULL,
  ts          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (session_id, turn)
);
CREATE VIRTUAL TABLE sessions_fts USING fts5 (
  content, content = 'sessions_index', content_rowid = 'id', tokenize = 'porter unicode61'
);
CREATE TRIGGER sessions_index_ai AFTER INSERT ON sessions_index BEGIN
  INSERT INTO sessions_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER sessions_index_ad AFTER DELETE ON sessions_index BEGIN
  INSERT INTO sessions_fts (sessions_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER sessions_index_au AFTER UPDATE ON sessions_index BEGIN
  INSERT INTO sessions_fts (sessions_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO sessions_fts (rowid, content) VALUES (new.id, new.content);
END;

-- Messages waiting for a worker; leased by claimers, expired and retried by the reaper.
CREATE TABLE queued_messages (
  id               INTEGER PRIMARY KEY,
  ticket_id        INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
  worker           TEXT,                                 -- NULL = any worker
  body             TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'leased', 'done', 'failed', 'expired', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at TEXT,
  next_attempt_at  TEXT,
  last_error       TEXT,
  alerted_at       TEXT,
  created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX queued_messages_status ON queued_messages (status, created_at);

-- The scheduler's execution log.
CREATE TABLE task_runs (
  id            INTEGER PRIMARY KEY,
  task_name    TEXT    NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'error', 'skipped')),
  started_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  finished_at  TEXT,
  duration_ms  INTEGER,
  output       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX task_runs_started ON task_runs (started_at DESC);
CREATE INDEX task_runs_task ON task_runs (task_name, started_at DESC);

-- Health-check history: workers and services report in.
CREATE TABLE heartbeats (
  id         INTEGER PRIMARY KEY,
  worker     TEXT    NOT NULL,
  ticket_id  INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
  status     TEXT    NOT NULL CHECK (status IN ('ok', 'busy', 'idle', 'degraded', 'down')),
  detail     TEXT    NOT NULL DEFAULT '',
  ts         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX heartbeats_ts ON heartbeats (ts DESC);
CREATE INDEX heartbeats_worker ON heartbeats (worker, ts DESC);

-- Vibe Kanban external board sync mapping.
CREATE TABLE vk_sync (
  id              INTEGER PRIMARY KEY,
  ticket_id       INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  vk_project      TEXT    NOT NULL,
  vk_task_id      TEXT    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'synced' CHECK (state IN ('synced', 'pending', 'conflict', 'error')),
  last_synced_at  TEXT,
  UNIQUE (vk_project, vk_task_id),
  UNIQUE (ticket_id, vk_project)
);

-- Access: tokens are kept only as SHA-256 hashes.
CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80),
  scope         TEXT    NOT NULL CHECK (scope IN ('admin', 'worker', 'read')),
  token_hash    TEXT    NOT NULL UNIQUE,
  -- 'api': a bearer token (and a login). 'login_link': printed by `mc serve`, good for one login, then spent.
  kind          TEXT    NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'login_link')),
  expires_at    TEXT,
  used_at       TEXT,
  created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_used_at  TEXT,
  revoked_at    TEXT
);

-- Browser logins: the cookie holds a random id, the table its hash; logout deletes the row.
CREATE TABLE login_sessions (
  id_hash       TEXT    PRIMARY KEY,
  token_id      INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
  csrf_token    TEXT    NOT NULL,
  created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  expires_at    TEXT    NOT NULL
);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);

PRAGMA user_version = 1;
