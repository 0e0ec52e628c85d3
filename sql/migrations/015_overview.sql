-- The Overview's charts and Team's "done this week": when each ticket was closed, and how many events were
-- posted each hour.

-- When a ticket last went to Done (NULL while it is anywhere else): kept by the triggers below whatever moves
-- it (the board, the API, an edit, an import). Tickets already done count as closed when they last changed.
ALTER TABLE tickets ADD COLUMN done_at TEXT;
UPDATE tickets SET done_at = updated_at WHERE status = 'done';
CREATE INDEX tickets_done ON tickets (done_at, assigned_to) WHERE done_at IS NOT NULL;  -- covers the chart and Team
CREATE TRIGGER tickets_done_on_insert AFTER INSERT ON tickets WHEN new.status = 'done' AND new.done_at IS NULL BEGIN
  UPDATE tickets SET done_at = new.updated_at WHERE id = new.id;
END;
CREATE TRIGGER tickets_done_on_move AFTER UPDATE OF status ON tickets
WHEN new.status IS NOT old.status AND 'done' IN (new.status, old.status)  -- other moves leave done_at NULL
BEGIN
  UPDATE tickets SET done_at = iif(new.status = 'done', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL)
   WHERE id = new.id;
END;
-- That bookkeeping is not news: a ticket's change is broadcast once, not again for its done_at.
DROP TRIGGER broadcast_ticket_au;
CREATE TRIGGER broadcast_ticket_au AFTER UPDATE ON tickets
WHEN new.status IS NOT old.status OR new.done_at IS old.done_at
BEGIN
  INSERT INTO broadcasts (kind, ticket_id, body)
  VALUES ('ticket', new.id, json_object('status', new.status, 'was', old.status));
END;

-- Events posted per hour ('2026-12-02T09') by each worker ('' when none was named), counted by the event
-- indexer as it reads each batch (so posting an event costs nothing more): the Overview's events per hour and
-- Team's 24-hour strips. The counts stay when a ticket is deleted: they say what happened then.
CREATE TABLE event_hours (
  hour    TEXT    NOT NULL,
  worker  TEXT    NOT NULL,
  n       INTEGER NOT NULL,
  PRIMARY KEY (hour, worker)
) WITHOUT ROWID;
INSERT INTO event_hours (hour, worker, n)
SELECT substr(ts, 1, 13), coalesce(worker, ''), count(*) FROM ticket_events
 WHERE id <= (SELECT last_id FROM search_progress WHERE name = 'events')
 GROUP BY 1, 2;

PRAGMA user_version = 15;
