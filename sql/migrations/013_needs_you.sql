-- The Overview's "Needs you": a dead or expired message stays there until a person requeues it (back to the
-- queue, attempts from zero) or dismisses it (kept, with when).
ALTER TABLE queued_messages ADD COLUMN dismissed_at TEXT;

PRAGMA user_version = 13;
