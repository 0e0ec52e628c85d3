-- Life Manager (app/store/life_manager.py): scans posted by the WhatsApp and e-mail scanners, and what a person
-- does with each item. Times are passed in (`:now`, `:today`) so tests control the clock.
-- An item's state as the page reads it: a snooze whose day has come is over, so the item is open again
-- (computed here rather than by a sweep: nothing has to run at midnight).

-- name: life_manager_known(source, keys)$
-- How many of a scan's item ids its source already has (the rest are new).
SELECT count(*) FROM life_items
 WHERE source = :source AND item_key IN (SELECT value FROM json_each(:keys));

-- name: life_manager_upsert_items(source, scanned_at, now, items)
-- A whole scan in one statement: :items is a JSON array of [id, sender, subject, snippet, received_at, urgency,
-- suggested_action, due]. A known id gets the scanner's new text, unless this scan is older than the one that
-- last reported it; what a person did (state, snooze, ticket) is never touched. Returns the rows written.
INSERT INTO life_items (source, item_key, sender, subject, snippet, received_at, urgency, suggested_action, due,
                        scanned_at, first_seen_at, updated_at)
SELECT :source, i.value ->> 0, i.value ->> 1, i.value ->> 2, i.value ->> 3, i.value ->> 4, i.value ->> 5,
       i.value ->> 6, i.value ->> 7, :scanned_at, :now, :now
  FROM json_each(:items) i
 WHERE true
ON CONFLICT (source, item_key) DO UPDATE SET
  sender = excluded.sender, subject = excluded.subject, snippet = excluded.snippet,
  received_at = excluded.received_at, urgency = excluded.urgency, suggested_action = excluded.suggested_action,
  due = excluded.due, scanned_at = excluded.scanned_at, updated_at = excluded.updated_at
 WHERE excluded.scanned_at >= life_items.scanned_at
RETURNING id;

-- name: life_manager_record_source(source, scanned_at, items, now)!
-- The source's last scan (an older scan posted late does not replace a newer one).
INSERT INTO life_sources (source, scanned_at, items, reported_at) VALUES (:source, :scanned_at, :items, :now)
ON CONFLICT (source) DO UPDATE SET
  scanned_at = excluded.scanned_at, items = excluded.items, reported_at = excluded.reported_at
 WHERE excluded.scanned_at >= life_sources.scanned_at;

-- name: life_manager_items(today, source, urgency, show, limit)
-- Items under the filters (NULL: any), most urgent first, then by source, the nearest due date, the newest.
-- :show is a state (open, snoozed, done, dismissed) or 'all'.
SELECT * FROM (
  SELECT i.id, i.source, i.item_key, i.sender, i.subject, i.snippet, i.received_at, i.urgency, i.suggested_action,
         i.due, i.scanned_at, i.first_seen_at, i.updated_at,
         iif(i.state = 'snoozed' AND i.snoozed_until <= :today, 'open', i.state) AS state,
         iif(i.state = 'snoozed' AND i.snoozed_until > :today, i.snoozed_until, NULL) AS snoozed_until,
         i.state_changed_at, t.identifier AS ticket
    FROM life_items i LEFT JOIN tickets t ON t.id = i.ticket_id
   WHERE (:source IS NULL OR i.source = :source) AND (:urgency IS NULL OR i.urgency = :urgency)
)
 WHERE :show = 'all' OR state = :show
 ORDER BY CASE urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, source,
          due IS NULL, due, received_at DESC, id
 LIMIT :limit;

-- name: life_manager_counts(today, source, urgency)
-- How many items are in each state under the source and urgency filters (for the state tabs).
SELECT iif(state = 'snoozed' AND snoozed_until <= :today, 'open', state) AS state, count(*) AS n
  FROM life_items
 WHERE (:source IS NULL OR source = :source) AND (:urgency IS NULL OR urgency = :urgency)
 GROUP BY 1;

-- name: life_manager_sources()
SELECT source, scanned_at, items, reported_at FROM life_sources ORDER BY source;

-- name: life_manager_get(id, today)^
SELECT i.id, i.source, i.item_key, i.sender, i.subject, i.snippet, i.received_at, i.urgency, i.suggested_action,
       i.due, i.scanned_at, i.first_seen_at, i.updated_at,
       iif(i.state = 'snoozed' AND i.snoozed_until <= :today, 'open', i.state) AS state,
       iif(i.state = 'snoozed' AND i.snoozed_until > :today, i.snoozed_until, NULL) AS snoozed_until,
       i.state_changed_at, t.identifier AS ticket
  FROM life_items i LEFT JOIN tickets t ON t.id = i.ticket_id
 WHERE i.id = :id;

-- name: life_manager_set_state(id, state, snoozed_until, now)
-- A person's done, snooze, dismiss or reopen. Returns the row when there is one.
UPDATE life_items SET state = :state, snoozed_until = :snoozed_until, state_changed_at = :now
 WHERE id = :id
RETURNING id;

-- name: life_manager_link_ticket(id, ticket_id)
-- The item's ticket, only if it has none yet (two clicks at once make one link; the handler undoes the other).
UPDATE life_items SET ticket_id = :ticket_id WHERE id = :id AND ticket_id IS NULL
RETURNING id;

-- name: life_manager_count()$
-- How many items there are at all (`mc demo` fills only a database without any).
SELECT count(*) FROM life_items;
