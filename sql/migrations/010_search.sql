-- One search over tickets, comments and transcripts (/search): comments get a full-text index of their own, kept
-- by triggers like the tickets' (comments are written one at a time, so a trigger per row costs nothing that
-- matters). Tickets (tickets_fts) and transcripts (sessions_fts) were indexed already.
CREATE VIRTUAL TABLE comments_fts USING fts5 (
  body, content = 'ticket_comments', content_rowid = 'id', tokenize = 'porter unicode61'
);
INSERT INTO comments_fts (comments_fts) VALUES ('rebuild');
CREATE TRIGGER comments_fts_ai AFTER INSERT ON ticket_comments BEGIN
  INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER comments_fts_ad AFTER DELETE ON ticket_comments BEGIN
  INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER comments_fts_au AFTER UPDATE OF body ON ticket_comments BEGIN
  INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body);
END;

-- The agent filter (of the search and of /sessions) and the list of agents read this.
CREATE INDEX sessions_agent ON sessions (agent);

PRAGMA user_version = 10;
