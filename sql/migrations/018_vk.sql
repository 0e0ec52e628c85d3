-- Vibe Kanban in (`mc vk import`, `mc vk sync`; issue 14). vk_sync (from 001) maps each VK task or local issue to
-- its ticket; these columns let a second import or sync change only what changed, and tell who changed what.
-- `base_json` is what both sides agreed on at the last import or sync (the ticket's fields as we mapped them, plus
-- VK's own status word, since backlog and todo, or in_progress and blocked, are one VK status each): a field that
-- differs from it here changed here, one whose new mapping differs from it changed there.
ALTER TABLE vk_sync ADD COLUMN content_hash TEXT;        -- hash of the fields as mapped from VK at the last agreement
ALTER TABLE vk_sync ADD COLUMN base_json TEXT CHECK (base_json IS NULL OR json_valid(base_json));
ALTER TABLE vk_sync ADD COLUMN remote_updated_at TEXT;   -- VK's updated_at then (ours, normalised)
ALTER TABLE vk_sync ADD COLUMN source TEXT NOT NULL DEFAULT 'task' CHECK (source IN ('task', 'issue'));
CREATE INDEX vk_sync_ticket ON vk_sync (ticket_id);

-- What else came from VK, each VK row once: comments, relationships, a subtask's parent, and agent runs (local_id:
-- the comment's or relationship's id here; for a run, how many of its events are stored, so a run whose log grew
-- adds only what is new). content_hash says whether the VK row changed since.
CREATE TABLE vk_items (
  kind          TEXT    NOT NULL CHECK (kind IN ('comment', 'link', 'parent', 'run')),
  vk_id         TEXT    NOT NULL,
  ticket_id     INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  local_id      INTEGER,
  content_hash  TEXT    NOT NULL,
  PRIMARY KEY (kind, vk_id)
) WITHOUT ROWID;
CREATE INDEX vk_items_ticket ON vk_items (ticket_id);

-- Both sides changed one field since the last agreement: the newer updated_at won, and both values are kept here,
-- so nothing is lost silently (the import's and the sync's reports list them too).
CREATE TABLE vk_conflicts (
  id                 INTEGER PRIMARY KEY,
  ticket_id          INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
  vk_task_id         TEXT    NOT NULL,
  field              TEXT    NOT NULL,
  ours               TEXT,
  theirs             TEXT,
  ours_updated_at    TEXT,
  theirs_updated_at  TEXT,
  winner             TEXT    NOT NULL CHECK (winner IN ('ours', 'theirs')),
  via                TEXT    NOT NULL CHECK (via IN ('import', 'sync')),
  created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX vk_conflicts_created ON vk_conflicts (created_at);

PRAGMA user_version = 18;
