-- The board: manual ordering, per-status counts and versions, and full-text search over tickets.

-- A card's place in its column: newest-updated first (sort_key = update time in epoch ms) unless the user
-- placed it by hand (manual_order = 1: the key sits between its neighbours and edits no longer move it).
ALTER TABLE tickets ADD COLUMN sort_key REAL;
ALTER TABLE tickets ADD COLUMN manual_order INTEGER NOT NULL DEFAULT 0 CHECK (manual_order IN (0, 1));
-- When the card last changed place (moved, edited to the top, re-spaced): what a load-more asks about.
ALTER TABLE tickets ADD COLUMN placed_at TEXT;
ALTER TABLE tickets DROP COLUMN position;
UPDATE tickets SET sort_key = (julianday(updated_at) - 2440587.5) * 86400000.0, placed_at = updated_at;
DROP INDEX tickets_board;
-- "The next 30 of one column after (sort_key, id)" is one range of this index: no scan, no sort, no OFFSET.
CREATE INDEX tickets_board ON tickets (status, sort_key DESC, id DESC);
-- "What in this column changed place since the page was drawn?" (load-more fills gaps with it).
CREATE INDEX tickets_placed ON tickets (status, placed_at);

-- Inserts that give no place (the demo, bulk loads) are placed by their update time.
CREATE TRIGGER tickets_default_place AFTER INSERT ON tickets WHEN new.sort_key IS NULL BEGIN
  UPDATE tickets SET sort_key = (julianday(new.updated_at) - 2440587.5) * 86400000.0, placed_at = new.updated_at
   WHERE id = new.id;
END;

-- Counts per status without counting, and a version per status that moves with every change to a card in
-- it: rendered columns are cached under (status, version), so a new version can never be served stale.
CREATE TABLE board_state (
  status   TEXT    PRIMARY KEY,
  n        INTEGER NOT NULL CHECK (n >= 0),
  version  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO board_state (status, n, version)
SELECT s.status, (SELECT count(*) FROM tickets t WHERE t.status = s.status), 1
  FROM (SELECT 'backlog' AS status UNION ALL SELECT 'todo' UNION ALL SELECT 'in_progress'
        UNION ALL SELECT 'review' UNION ALL SELECT 'blocked' UNION ALL SELECT 'done') s;

CREATE TRIGGER board_state_ticket_ai AFTER INSERT ON tickets BEGIN
  UPDATE board_state SET n = n + 1, version = version + 1 WHERE status = new.status;
END;
CREATE TRIGGER board_state_ticket_ad AFTER DELETE ON tickets BEGIN
  UPDATE board_state SET n = n - 1, version = version + 1 WHERE status = old.status;
END;
CREATE TRIGGER board_state_ticket_au AFTER UPDATE ON tickets BEGIN
  UPDATE board_state
     SET n = n + (status = new.status) - (status = old.status), version = version + 1
   WHERE status IN (old.status, new.status);
END;
CREATE TRIGGER board_state_tag_ai AFTER INSERT ON ticket_tags BEGIN
  UPDATE board_state SET version = version + 1
   WHERE status = (SELECT status FROM tickets WHERE id = new.ticket_id);
END;
CREATE TRIGGER board_state_tag_ad AFTER DELETE ON ticket_tags BEGIN
  UPDATE board_state SET version = version + 1
   WHERE status = (SELECT status FROM tickets WHERE id = old.ticket_id);
END;

-- Search over titles and descriptions (queries are quoted by app/search.py before they reach MATCH).
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
  title, description, content = 'tickets', content_rowid = 'id', tokenize = 'porter unicode61'
);
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');
CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN
  INSERT INTO tickets_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN
  INSERT INTO tickets_fts (tickets_fts, rowid, title, description)
  VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER tickets_fts_au AFTER UPDATE OF title, description ON tickets BEGIN
  INSERT INTO tickets_fts (tickets_fts, rowid, title, description)
  VALUES ('delete', old.id, old.title, old.description);
  INSERT INTO tickets_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

PRAGMA user_version = 2;
