-- One search over tickets, comments, transcript messages and agents' events on tickets (app/store/search.py). Each kind has the same three
-- queries over its own full-text table:
--   *_rank:  of the newest :window hits below :before under the filters (FTS5 walks them in rowid order, and
--            stops), the best :limit by bm25, newest first among equals; each row also says how many hits the
--            window holds and its lowest rowid (where an older window starts). No snippets here: SQLite would
--            make one for every row it sorts;
--   *_count: how many hits there are in all, counted up to :cap (asked only when the window is full);
--   *_shown: what the page shows of the hits :ids (a JSON array), with a snippet whose matches sit between :open
--            and :close (markers made for each search, so no stored text can fake one).
-- :match is always built by app/search.py (quoted terms), never what a person typed. :ticket is an identifier,
-- :agent a name, :since/:until UTC stamps, each NULL when not filtered; :filtered is 0 when none is set, and then
-- the filters' EXISTS is never evaluated (so an unfiltered search reads the full-text index alone).

-- name: search_tickets_count(match, filtered, ticket, agent, since, until, cap)$
SELECT count(*) FROM (
  SELECT 1 FROM tickets_fts f
   WHERE tickets_fts MATCH :match
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM tickets t
            WHERE t.id = f.rowid AND (:ticket IS NULL OR t.identifier = :ticket)
              AND (:agent IS NULL OR t.assigned_to = :agent)
              AND (:since IS NULL OR t.updated_at >= :since) AND (:until IS NULL OR t.updated_at < :until)))
   LIMIT :cap);

-- name: search_tickets_rank(match, before, filtered, ticket, agent, since, until, window, limit)
SELECT id, rank, count(*) OVER () AS in_window, min(id) OVER () AS floor FROM (
  SELECT f.rowid AS id, bm25(tickets_fts, 10.0, 1.0) AS rank FROM tickets_fts f
   WHERE tickets_fts MATCH :match AND f.rowid < :before
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM tickets t
            WHERE t.id = f.rowid AND (:ticket IS NULL OR t.identifier = :ticket)
              AND (:agent IS NULL OR t.assigned_to = :agent)
              AND (:since IS NULL OR t.updated_at >= :since) AND (:until IS NULL OR t.updated_at < :until)))
   ORDER BY f.rowid DESC
   LIMIT :window)
 ORDER BY rank, id DESC
 LIMIT :limit;

-- name: search_tickets_shown(match, ids, open, close)
SELECT 'ticket' AS kind, f.rowid AS id, t.updated_at AS at, t.identifier AS ticket, t.title AS title,
       t.status AS status, NULL AS session_id, NULL AS seq, coalesce(t.assigned_to, '') AS who, '' AS role,
       NULL AS tool,
       iif(t.description = '', snippet(tickets_fts, 0, :open, :close, '…', 24),
           snippet(tickets_fts, 1, :open, :close, '…', 24)) AS snippet
  FROM tickets_fts f JOIN tickets t ON t.id = f.rowid
 WHERE tickets_fts MATCH :match AND f.rowid IN (SELECT value FROM json_each(:ids));

-- name: search_comments_count(match, filtered, ticket, agent, since, until, cap)$
SELECT count(*) FROM (
  SELECT 1 FROM comments_fts f
   WHERE comments_fts MATCH :match
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
            WHERE c.id = f.rowid AND (:ticket IS NULL OR t.identifier = :ticket)
              AND (:agent IS NULL OR c.author = :agent)
              AND (:since IS NULL OR c.created_at >= :since) AND (:until IS NULL OR c.created_at < :until)))
   LIMIT :cap);

-- name: search_comments_rank(match, before, filtered, ticket, agent, since, until, window, limit)
SELECT id, rank, count(*) OVER () AS in_window, min(id) OVER () AS floor FROM (
  SELECT f.rowid AS id, bm25(comments_fts) AS rank FROM comments_fts f
   WHERE comments_fts MATCH :match AND f.rowid < :before
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
            WHERE c.id = f.rowid AND (:ticket IS NULL OR t.identifier = :ticket)
              AND (:agent IS NULL OR c.author = :agent)
              AND (:since IS NULL OR c.created_at >= :since) AND (:until IS NULL OR c.created_at < :until)))
   ORDER BY f.rowid DESC
   LIMIT :window)
 ORDER BY rank, id DESC
 LIMIT :limit;

-- name: search_comments_shown(match, ids, open, close)
SELECT 'comment' AS kind, f.rowid AS id, c.created_at AS at, t.identifier AS ticket, t.title AS title,
       t.status AS status, NULL AS session_id, NULL AS seq, c.author AS who, '' AS role, NULL AS tool,
       snippet(comments_fts, 0, :open, :close, '…', 24) AS snippet
  FROM comments_fts f JOIN ticket_comments c ON c.id = f.rowid JOIN tickets t ON t.id = c.ticket_id
 WHERE comments_fts MATCH :match AND f.rowid IN (SELECT value FROM json_each(:ids));

-- name: search_messages_count(match, filtered, ticket, agent, since, until, cap)$
SELECT count(*) FROM (
  SELECT 1 FROM sessions_fts f
   WHERE sessions_fts MATCH :match
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM sessions_index i JOIN sessions s ON s.id = i.session_id
            WHERE i.id = f.rowid
              AND (:ticket IS NULL OR s.ticket_id = (SELECT id FROM tickets WHERE identifier = :ticket))
              AND (:agent IS NULL OR s.agent = :agent)
              AND (:since IS NULL OR i.ts >= :since) AND (:until IS NULL OR i.ts < :until)))
   LIMIT :cap);

-- name: search_messages_rank(match, before, filtered, ticket, agent, since, until, window, limit)
SELECT id, rank, count(*) OVER () AS in_window, min(id) OVER () AS floor FROM (
  SELECT f.rowid AS id, bm25(sessions_fts) AS rank FROM sessions_fts f
   WHERE sessions_fts MATCH :match AND f.rowid < :before
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM sessions_index i JOIN sessions s ON s.id = i.session_id
            WHERE i.id = f.rowid
              AND (:ticket IS NULL OR s.ticket_id = (SELECT id FROM tickets WHERE identifier = :ticket))
              AND (:agent IS NULL OR s.agent = :agent)
              AND (:since IS NULL OR i.ts >= :since) AND (:until IS NULL OR i.ts < :until)))
   ORDER BY f.rowid DESC
   LIMIT :window)
 ORDER BY rank, id DESC
 LIMIT :limit;

-- name: search_messages_shown(match, ids, open, close)
SELECT 'message' AS kind, f.rowid AS id, i.ts AS at, t.identifier AS ticket, s.title AS title, NULL AS status,
       s.id AS session_id, i.seq AS seq, s.agent AS who, i.kind AS role, i.tool AS tool,
       snippet(sessions_fts, 0, :open, :close, '…', 24) AS snippet
  FROM sessions_fts f JOIN sessions_index i ON i.id = f.rowid JOIN sessions s ON s.id = i.session_id
  LEFT JOIN tickets t ON t.id = s.ticket_id
 WHERE sessions_fts MATCH :match AND f.rowid IN (SELECT value FROM json_each(:ids));

-- name: search_events_count(match, filtered, ticket, agent, since, until, cap)$
SELECT count(*) FROM (
  SELECT 1 FROM events_fts f
   WHERE events_fts MATCH :match
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM event_index x
            WHERE x.id = f.rowid
              AND (:ticket IS NULL OR x.ticket_id = (SELECT id FROM tickets WHERE identifier = :ticket))
              AND (:agent IS NULL OR x.worker = :agent)
              AND (:since IS NULL OR x.ts >= :since) AND (:until IS NULL OR x.ts < :until)))
   LIMIT :cap);

-- name: search_events_rank(match, before, filtered, ticket, agent, since, until, window, limit)
SELECT id, rank, count(*) OVER () AS in_window, min(id) OVER () AS floor FROM (
  SELECT f.rowid AS id, bm25(events_fts) AS rank FROM events_fts f
   WHERE events_fts MATCH :match AND f.rowid < :before
     AND (:filtered = 0 OR EXISTS (
           SELECT 1 FROM event_index x
            WHERE x.id = f.rowid
              AND (:ticket IS NULL OR x.ticket_id = (SELECT id FROM tickets WHERE identifier = :ticket))
              AND (:agent IS NULL OR x.worker = :agent)
              AND (:since IS NULL OR x.ts >= :since) AND (:until IS NULL OR x.ts < :until)))
   ORDER BY f.rowid DESC
   LIMIT :window)
 ORDER BY rank, id DESC
 LIMIT :limit;

-- name: search_events_shown(match, ids, open, close)
SELECT 'event' AS kind, f.rowid AS id, x.ts AS at, t.identifier AS ticket, t.title AS title, t.status AS status,
       NULL AS session_id, x.seq AS seq, coalesce(x.worker, '') AS who, x.kind AS role, x.tool AS tool,
       snippet(events_fts, 0, :open, :close, '…', 24) AS snippet
  FROM events_fts f JOIN event_index x ON x.id = f.rowid JOIN tickets t ON t.id = x.ticket_id
 WHERE events_fts MATCH :match AND f.rowid IN (SELECT value FROM json_each(:ids));
