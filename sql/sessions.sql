-- Agent sessions and their transcripts (app/store/sessions.py): registration, import, listing, reading back.

-- name: sessions_known(ids)
-- Which of :ids (a JSON array) are registered, with what each has so far.
SELECT s.id, s.ticket_id, s.message_count,
       (SELECT coalesce(max(seq), 0) FROM session_lines l WHERE l.session_id = s.id) AS last_seq
  FROM sessions s
 WHERE s.id IN (SELECT value FROM json_each(:ids));

-- name: sessions_held_uuids(pairs)
-- Which of :pairs (a JSON array of [session_id, uuid]) are lines held already.
SELECT l.session_id, l.uuid
  FROM json_each(:pairs) p JOIN session_lines l ON l.session_id = p.value ->> 0 AND l.uuid = p.value ->> 1;

-- name: sessions_register(rows)!
-- New sessions or what is newly known of them: :rows is a JSON array of objects with id, agent, title, ticket_id,
-- started_at, last_at, cwd, model, source and (an import's) messages_added. What a row leaves empty keeps what was
-- there; times only widen; messages_added counts on from what the session had.
INSERT INTO sessions (id, agent, title, ticket_id, started_at, last_at, cwd, model, source, message_count)
SELECT r.value ->> 'id', coalesce(r.value ->> 'agent', 'agent'), coalesce(r.value ->> 'title', ''),
       r.value ->> 'ticket_id', r.value ->> 'started_at', r.value ->> 'last_at',
       coalesce(r.value ->> 'cwd', ''), coalesce(r.value ->> 'model', ''), r.value ->> 'source',
       coalesce(r.value ->> 'messages_added', 0)
  FROM json_each(:rows) r
 WHERE true
ON CONFLICT (id) DO UPDATE SET
  agent = iif(excluded.agent IN ('', 'agent'), sessions.agent, excluded.agent),
  title = iif(sessions.title = '', excluded.title, sessions.title),
  ticket_id = coalesce(sessions.ticket_id, excluded.ticket_id),
  started_at = min(sessions.started_at, excluded.started_at),
  last_at = max(coalesce(sessions.last_at, ''), coalesce(excluded.last_at, '')),
  cwd = iif(sessions.cwd = '', excluded.cwd, sessions.cwd),
  model = iif(excluded.model = '', sessions.model, excluded.model),
  message_count = sessions.message_count + excluded.message_count;

-- name: sessions_insert_lines(rows, payloads)!
-- A transcript's new lines: :rows is a JSON array of [session_id, seq, uuid, type, payload start, payload length,
-- ts, cuts]; the payloads are bytes of the blob :payloads (UTF-8, one after another; the first starts at 1). Kept
-- out of the JSON, the large texts are neither escaped nor parsed: this insert took half the time it did with them
-- in. cuts: where a payload holds `null` for a message's text, and the message's turn (see app/transcript.py).
INSERT INTO session_lines (session_id, seq, uuid, event_type, payload_json, ts, cuts)
SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3,
       CAST(substr(:payloads, r.value ->> 4, r.value ->> 5) AS TEXT), r.value ->> 6, r.value ->> 7
  FROM json_each(:rows) r;

-- name: sessions_insert_messages(rows, contents)!
-- Their messages for search: :rows is a JSON array of [session_id, turn, role, kind, tool, content start, content
-- length, ts, seq], the contents bytes of the blob :contents (as the lines' payloads above).
INSERT INTO sessions_index (session_id, turn, role, kind, tool, content, ts, seq)
SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4,
       CAST(substr(:contents, r.value ->> 5, r.value ->> 6) AS TEXT), r.value ->> 7, r.value ->> 8
  FROM json_each(:rows) r;

-- name: sessions_index_new(count)!
-- Index for search the :count messages just added (the newest rows: ids are given out in order). The last statement
-- of its transaction: FTS5 writes what it holds in memory as a new segment whenever a later statement of the same
-- transaction opens a savepoint, and more, smaller segments cost merges (this way each transaction makes one).
INSERT INTO sessions_fts (rowid, content)
SELECT id, content FROM sessions_index WHERE id > (SELECT max(id) FROM sessions_index) - :count;

-- name: sessions_files(paths)
-- How far each of :paths (a JSON array) was read before (the ones never read are not there).
SELECT path, inode, head, offset, lines FROM transcript_files WHERE path IN (SELECT value FROM json_each(:paths));

-- name: sessions_save_files(files)!
-- How far files were read: :files is a JSON array of objects with path, inode, head, offset, lines, imported_at.
INSERT INTO transcript_files (path, inode, head, offset, lines, imported_at)
SELECT f.value ->> 'path', f.value ->> 'inode', f.value ->> 'head', f.value ->> 'offset', f.value ->> 'lines',
       f.value ->> 'imported_at'
  FROM json_each(:files) f
 WHERE true
ON CONFLICT (path) DO UPDATE SET
  inode = excluded.inode, head = excluded.head, offset = excluded.offset, lines = excluded.lines,
  imported_at = excluded.imported_at;

-- name: sessions_ticket_ids(identifiers)
-- The tickets among :identifiers (a JSON array), as identifier and id.
SELECT identifier, id FROM tickets WHERE identifier IN (SELECT value FROM json_each(:identifiers));

-- name: sessions_fts_hashsize()!
-- Lets the search index hold up to 32 MB of a transaction's terms in memory before writing them out as a segment
-- (FTS5's default is 1 MB): an import's batch makes one segment instead of a dozen, and fewer merges follow. Kept
-- in the table's config (set again by each import); the app's other writes add a few messages at a time.
INSERT INTO sessions_fts (sessions_fts, rank) VALUES ('hashsize', 33554432);

-- name: sessions_get(id)^
SELECT s.id, s.agent, s.title, t.identifier AS ticket, s.started_at, s.last_at, s.ended_at, s.cwd, s.model,
       s.source, s.message_count, s.cost_usd, s.ticket_seq
  FROM sessions s LEFT JOIN tickets t ON t.id = s.ticket_id
 WHERE s.id = :id;

-- name: sessions_lines_after(session_id, after, limit)
-- A transcript's lines after a seq, in order (as the run view folds them), each with the texts cut out of it.
SELECT l.id AS rowid, l.seq, l.event_type, l.payload_json, l.ts,
       (SELECT json_group_array(json_array(c.value ->> 0, i.content))
          FROM json_each(l.cuts) c JOIN sessions_index i ON i.session_id = l.session_id AND i.turn = c.value ->> 1)
         AS texts
  FROM session_lines l
 WHERE l.session_id = :session_id AND l.seq > :after
 ORDER BY l.seq
 LIMIT :limit;

-- name: sessions_messages_after(session_id, after, limit)
-- A session's indexed messages after a turn, in order (the API's messages).
SELECT turn, role, kind, tool, content, ts, seq
  FROM sessions_index
 WHERE session_id = :session_id AND turn > :after
 ORDER BY turn
 LIMIT :limit;

-- name: sessions_register_from_events(rows)!
-- Sessions a worker's events name (an `init` with a session_id): :rows is a JSON array of objects with id, agent,
-- ticket_id, ticket_seq, started_at, cwd, model. A session registered before keeps its ticket and first seq.
INSERT INTO sessions (id, agent, ticket_id, ticket_seq, started_at, last_at, cwd, model, source)
SELECT r.value ->> 'id', coalesce(r.value ->> 'agent', 'agent'), r.value ->> 'ticket_id', r.value ->> 'ticket_seq',
       r.value ->> 'started_at', r.value ->> 'started_at', coalesce(r.value ->> 'cwd', ''),
       coalesce(r.value ->> 'model', ''), 'events'
  FROM json_each(:rows) r
 WHERE true
ON CONFLICT (id) DO UPDATE SET
  ticket_id = coalesce(sessions.ticket_id, excluded.ticket_id),
  ticket_seq = coalesce(sessions.ticket_seq, excluded.ticket_seq),
  cwd = iif(sessions.cwd = '', excluded.cwd, sessions.cwd),
  model = iif(excluded.model = '', sessions.model, excluded.model),
  last_at = max(coalesce(sessions.last_at, ''), excluded.last_at);

-- name: sessions_list(agent, ticket, before_started, before_id, limit)
-- Sessions newest first, filtered (NULL: any), paged by keyset (started_at, id) from the last one shown.
SELECT s.id, s.agent, s.title, t.identifier AS ticket, s.started_at, s.last_at, s.ended_at, s.cwd, s.model,
       s.source, s.message_count, s.cost_usd, s.ticket_seq
  FROM sessions s LEFT JOIN tickets t ON t.id = s.ticket_id
 WHERE (:agent IS NULL OR s.agent = :agent)
   AND (:ticket IS NULL OR t.identifier = :ticket)
   AND (:before_started IS NULL OR (s.started_at, s.id) < (:before_started, :before_id))
 ORDER BY s.started_at DESC, s.id DESC
 LIMIT :limit;

-- name: sessions_agents()
-- The agents that have sessions, for the list's filter.
SELECT DISTINCT agent FROM sessions ORDER BY agent;

-- name: sessions_of_ticket(ticket_id, limit)
-- A ticket's sessions, newest first.
SELECT s.id, s.agent, s.title, t.identifier AS ticket, s.started_at, s.last_at, s.ended_at, s.cwd, s.model,
       s.source, s.message_count, s.cost_usd, s.ticket_seq
  FROM sessions s JOIN tickets t ON t.id = s.ticket_id
 WHERE s.ticket_id = :ticket_id
 ORDER BY s.started_at DESC
 LIMIT :limit;

-- name: sessions_line_count(session_id)$
SELECT coalesce(max(seq), 0) FROM session_lines WHERE session_id = :session_id;

-- name: sessions_set_ticket(id, ticket_id)!
-- Link a session to the ticket it served, or (NULL) leave it standing alone: a person's choice from its page.
UPDATE sessions SET ticket_id = :ticket_id WHERE id = :id;
