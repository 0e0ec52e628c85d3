-- A transcript's texts stored once: a message's text that stands whole in its line is kept in sessions_index
-- only, and the line as stored holds `null` in its place. cuts: a JSON array of [place in payload_json, turn of the
-- message whose text goes there]; NULL when nothing was cut (and for every line imported before this).
ALTER TABLE session_lines ADD COLUMN cuts TEXT;

PRAGMA user_version = 19;
