-- What agents said and did on tickets, for the one search: each text, tool call and tool output of a worker's
-- stream-json events (thinking is kept, not indexed, as in transcripts). Filled after the fact by the indexer
-- (app/event_index.py), a batch of events at a time, so posting events costs nothing more; search_progress says
-- how far it has read. Rows go with their ticket (and their full-text entries with them, by the trigger).
CREATE TABLE event_index (
  id         INTEGER PRIMARY KEY,      -- the event's id × 1000 + the block's place in its message
  ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  kind       TEXT    NOT NULL,         -- user, assistant, tool_use, tool_result
  tool       TEXT,
  content    TEXT    NOT NULL,
  ts         TEXT    NOT NULL,
  worker     TEXT
);
CREATE INDEX event_index_ticket ON event_index (ticket_id);
CREATE VIRTUAL TABLE events_fts USING fts5 (
  content, content = 'event_index', content_rowid = 'id', tokenize = 'porter unicode61'
);
CREATE TRIGGER event_index_ad AFTER DELETE ON event_index BEGIN
  INSERT INTO events_fts (events_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;

CREATE TABLE search_progress (
  name     TEXT    PRIMARY KEY,
  last_id  INTEGER NOT NULL            -- the last ticket_events id read
) WITHOUT ROWID;
INSERT INTO search_progress (name, last_id) VALUES ('events', 0);

PRAGMA user_version = 11;
