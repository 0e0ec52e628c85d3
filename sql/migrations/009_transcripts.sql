-- Sessions as transcripts. A session is one agent conversation, registered three ways that meet in one row: by
-- the API, by a worker's events (an `init` that carries a session_id), and by importing the agent's transcript
-- (`mc sessions import`). Its lines are kept as the agent wrote them (session_lines, which the run view folds as
-- it folds a ticket's events), and each user, assistant and tool message in them is indexed for search
-- (sessions_index, whose triggers keep sessions_fts in step).
ALTER TABLE sessions ADD COLUMN cwd TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN source TEXT NOT NULL DEFAULT 'api';  -- api, events or import: how it came first
ALTER TABLE sessions ADD COLUMN last_at TEXT;                         -- its newest line or event
ALTER TABLE sessions ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN cost_usd REAL;
ALTER TABLE sessions ADD COLUMN ticket_seq INTEGER;                   -- registered by events: its init's seq
CREATE INDEX sessions_ticket ON sessions (ticket_id, started_at) WHERE ticket_id IS NOT NULL;

CREATE TABLE session_lines (
  id           INTEGER PRIMARY KEY,
  session_id   TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,       -- the line's place in its session, from 1
  uuid         TEXT,                   -- the line's own id: importing it again adds nothing
  event_type   TEXT    NOT NULL,
  payload_json TEXT    NOT NULL,
  ts           TEXT    NOT NULL,
  UNIQUE (session_id, seq)
);
CREATE UNIQUE INDEX session_lines_uuid ON session_lines (session_id, uuid) WHERE uuid IS NOT NULL;

-- Each indexed message names the line it is in, and what it is. Writers index what they add with one statement
-- (INSERT INTO sessions_fts … SELECT … WHERE id > …): a trigger per row cost 2.5 times as much on imports.
DROP TRIGGER sessions_index_ai;
ALTER TABLE sessions_index ADD COLUMN seq INTEGER;
ALTER TABLE sessions_index ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';  -- user, assistant, tool_use, tool_result
ALTER TABLE sessions_index ADD COLUMN tool TEXT;

-- How far each transcript file has been read: a file that grew is read from here on; a file replaced at the same
-- path (another inode, or other first bytes) is read again from its start (its lines' uuids keep it single).
CREATE TABLE transcript_files (
  path        TEXT    PRIMARY KEY,
  inode       INTEGER NOT NULL,
  head        TEXT    NOT NULL,        -- a hash of its first bytes
  offset      INTEGER NOT NULL,        -- bytes read, up to the end of the last whole line
  lines       INTEGER NOT NULL,
  imported_at TEXT    NOT NULL
);

PRAGMA user_version = 9;
