-- Who posted each event: the worker token's name (NULL for events from before this was kept). And per worker
-- and ticket, what it did last, kept by the event writer once per batch: Team counts a worker alive from its
-- events as well as its heartbeats, and the board marks the cards whose run is going on, without reading
-- ticket_events (which has no index by time or worker, to keep ingest cheap).
ALTER TABLE ticket_events ADD COLUMN worker TEXT;

CREATE TABLE worker_activity (
  worker     TEXT    NOT NULL,
  ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  last_seq   INTEGER NOT NULL,
  last_type  TEXT    NOT NULL,           -- the last event's type: 'result' means its run has ended
  last_at    TEXT    NOT NULL,
  PRIMARY KEY (worker, ticket_id)
) WITHOUT ROWID;
CREATE INDEX worker_activity_last ON worker_activity (last_at);
CREATE INDEX worker_activity_ticket ON worker_activity (ticket_id);

PRAGMA user_version = 8;
