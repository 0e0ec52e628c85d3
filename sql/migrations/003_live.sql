-- The live path: idempotent event ingest, and the rows every server process reads to stay in step.

-- A retried POST with an Idempotency-Key answers with the seqs the first one got.
CREATE TABLE ingest_keys (
  ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  key         TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  seqs        TEXT    NOT NULL CHECK (json_valid(seqs)),   -- JSON array of the seqs given out
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (ticket_id, key)
) WITHOUT ROWID;
CREATE INDEX ingest_keys_created ON ingest_keys (created_at);

-- Board-wide news (ticket created, moved, commented; worker up or down) for the global stream. Every
-- process publishes what it commits at once, and polls for rows other processes wrote (their rowid is
-- above the last one it saw), so a browser on any process hears of a change made on any other.
CREATE TABLE broadcasts (
  id          INTEGER PRIMARY KEY,
  kind        TEXT    NOT NULL,
  ticket_id   INTEGER,
  body        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(body)),
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX broadcasts_created ON broadcasts (created_at);

-- What is news: a ticket created, changed or deleted, a comment, a worker going up or down. Triggers write
-- it in the same transaction as the change, so nothing can be committed without its broadcast.
CREATE TRIGGER broadcast_ticket_ai AFTER INSERT ON tickets BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body) VALUES ('ticket', new.id, json_object('status', new.status));
END;
CREATE TRIGGER broadcast_ticket_au AFTER UPDATE ON tickets BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body)
  VALUES ('ticket', new.id, json_object('status', new.status, 'was', old.status));
END;
CREATE TRIGGER broadcast_ticket_ad AFTER DELETE ON tickets BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body) VALUES ('ticket', NULL, json_object('was', old.status));
END;
CREATE TRIGGER broadcast_comment_ai AFTER INSERT ON ticket_comments BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body) VALUES ('comment', new.ticket_id, json_object('id', new.id));
END;
-- A worker is news when its status changes (up, down, busy, idle), not at every heartbeat.
CREATE TRIGGER broadcast_worker_ai AFTER INSERT ON heartbeats
WHEN (SELECT status FROM heartbeats WHERE worker = new.worker AND id < new.id ORDER BY id DESC LIMIT 1)
     IS NOT new.status
BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body)
  VALUES ('worker', new.ticket_id, json_object('worker', new.worker, 'status', new.status));
END;

PRAGMA user_version = 3;
