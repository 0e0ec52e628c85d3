-- name: recent_activity(limit)
-- The feed: newest comments, worker events and new tickets, each branch cut to :limit by its own index.
SELECT kind, at, identifier, title, actor, summary FROM (
  SELECT * FROM (
    SELECT 'comment' AS kind, c.created_at AS at, t.identifier, t.title, c.author AS actor,
           substr(c.body, 1, 240) AS summary
      FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
     ORDER BY c.id DESC LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'event', e.ts, t.identifier, t.title, 'worker', e.event_type
      FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
     ORDER BY e.id DESC LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'created', t.created_at, t.identifier, t.title, coalesce(t.assigned_to, ''), t.status
      FROM tickets t ORDER BY t.id DESC LIMIT :limit)
)
ORDER BY at DESC
LIMIT :limit;
