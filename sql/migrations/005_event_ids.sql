-- Event rowids are never given out twice. Every process watches for events above the last rowid it saw;
-- without AUTOINCREMENT, SQLite would hand the rowids of deleted top rows (a deleted ticket's events) to the
-- next ones, and other processes would never publish those. The writer numbers rows itself, from whichever
-- is higher: the table's last rowid, or the highest one ever deleted, kept here.
CREATE TABLE events_high_water (
  one     INTEGER PRIMARY KEY CHECK (one = 1),
  top_id  INTEGER NOT NULL
);
INSERT INTO events_high_water (one, top_id) VALUES (1, (SELECT coalesce(max(id), 0) FROM ticket_events));

CREATE TRIGGER events_high_water_ad AFTER DELETE ON ticket_events
WHEN old.id > (SELECT top_id FROM events_high_water WHERE one = 1)
BEGIN
  UPDATE events_high_water SET top_id = old.id WHERE one = 1;
END;

PRAGMA user_version = 5;
