-- The activity feed pages by keyset on (time, key): each of its branches reads its newest rows before the cursor
-- by an index on its time (comments and tickets had none; worker_activity has one).
CREATE INDEX ticket_comments_created ON ticket_comments (created_at, id);
CREATE INDEX tickets_created ON tickets (created_at, id);

PRAGMA user_version = 14;
