-- The worker queue. Times are passed in (`:now`, as '2026-11-27T23:41:05.123Z' text) so tests control the clock.

-- name: queue_enqueue(ticket_id, worker, body, now)<!
INSERT INTO queued_messages (ticket_id, worker, body, created_at, updated_at)
VALUES (:ticket_id, :worker, :body, :now, :now);

-- name: queue_claim(worker, now, lease_until)^
-- One statement picks and leases the oldest claimable message, under the single writer: two claimers
-- (even in two processes) never hold the same message.
UPDATE queued_messages
   SET status = 'leased', lease_owner = :worker, lease_expires_at = :lease_until, updated_at = :now
 WHERE id = (SELECT id FROM queued_messages
              WHERE status = 'queued'
                AND (worker IS NULL OR worker = :worker)
                AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
              ORDER BY id LIMIT 1)
RETURNING id, (SELECT identifier FROM tickets WHERE tickets.id = queued_messages.ticket_id) AS ticket,
          body, attempts, lease_expires_at;

-- name: queue_get(id)^
SELECT q.id, t.identifier AS ticket, q.worker, q.body, q.status, q.attempts, q.lease_owner, q.lease_expires_at,
       q.next_attempt_at, q.last_error, q.alerted_at, q.created_at, q.updated_at
  FROM queued_messages q LEFT JOIN tickets t ON t.id = q.ticket_id
 WHERE q.id = :id;

-- name: queue_list(status, limit)
SELECT q.id, t.identifier AS ticket, q.worker, q.body, q.status, q.attempts, q.lease_owner, q.lease_expires_at,
       q.next_attempt_at, q.last_error, q.alerted_at, q.created_at, q.updated_at
  FROM queued_messages q LEFT JOIN tickets t ON t.id = q.ticket_id
 WHERE :status IS NULL OR q.status = :status
 ORDER BY q.id DESC LIMIT :limit;

-- name: queue_list_for_ticket(ticket_id, limit)
SELECT q.id, t.identifier AS ticket, q.worker, q.body, q.status, q.attempts, q.lease_owner, q.lease_expires_at,
       q.next_attempt_at, q.last_error, q.alerted_at, q.created_at, q.updated_at
  FROM queued_messages q JOIN tickets t ON t.id = q.ticket_id
 WHERE q.ticket_id = :ticket_id
 ORDER BY q.id DESC LIMIT :limit;

-- name: queue_count_for_ticket(ticket_id)$
SELECT count(*) FROM queued_messages WHERE ticket_id = :ticket_id;

-- name: queue_mark_done(id, worker, now)!
UPDATE queued_messages
   SET status = 'done', lease_expires_at = NULL, last_error = NULL, updated_at = :now
 WHERE id = :id AND status = 'leased' AND lease_owner = :worker;

-- name: queue_mark_failed(id, worker, status, attempts, next_attempt_at, error, now)!
UPDATE queued_messages
   SET status = :status, attempts = :attempts, next_attempt_at = :next_attempt_at, last_error = :error,
       lease_expires_at = NULL, updated_at = :now
 WHERE id = :id AND status = 'leased' AND lease_owner = :worker;

-- name: queue_return_expired_leases(now, max_attempts)
-- A lease that ran out counts as a failed attempt: back to the queue, or dead at the limit.
-- (SET expressions read the row as it was before this UPDATE.)
UPDATE queued_messages
   SET attempts = attempts + 1,
       status = CASE WHEN attempts + 1 >= :max_attempts THEN 'dead' ELSE 'queued' END,
       last_error = 'the lease of ' || coalesce(lease_owner, 'a worker') || ' ran out at ' || lease_expires_at,
       lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, updated_at = :now
 WHERE status = 'leased' AND lease_expires_at <= :now
RETURNING id, status;

-- name: queue_retry_failed(now, max_attempts)
-- A failed message whose backoff is over is offered again, unless it already used its attempts.
UPDATE queued_messages
   SET status = CASE WHEN attempts >= :max_attempts THEN 'dead' ELSE 'queued' END, updated_at = :now
 WHERE status = 'failed' AND coalesce(next_attempt_at, '') <= :now
RETURNING id, status;

-- name: queue_expire_stuck(now, stuck_before)
-- Queued or leased with no change since before the threshold (a retry counts from when it became due).
UPDATE queued_messages
   SET status = 'expired',
       last_error = CASE status
                      WHEN 'queued' THEN 'no worker claimed it since ' || max(updated_at, coalesce(next_attempt_at, ''))
                      ELSE 'held by ' || coalesce(lease_owner, 'a worker') || ' since ' || updated_at
                           || ' without an answer'
                    END,
       lease_expires_at = NULL, updated_at = :now
 WHERE status IN ('queued', 'leased') AND max(updated_at, coalesce(next_attempt_at, '')) < :stuck_before
RETURNING id, status;

-- name: queue_claim_alerts(now, limit)
-- Mark before sending, inside the single writer: two reapers can never both send one alert.
UPDATE queued_messages SET alerted_at = :now
 WHERE id IN (SELECT id FROM queued_messages
               WHERE alerted_at IS NULL AND status IN ('expired', 'dead')
               ORDER BY id LIMIT :limit)
RETURNING id, (SELECT identifier FROM tickets WHERE tickets.id = queued_messages.ticket_id) AS ticket,
          worker, body, status, attempts, last_error;

-- name: queue_release_alert(id, claimed_at)!
-- The alert was not sent: unmark it so the next pass tries again (only if it is still our mark).
UPDATE queued_messages SET alerted_at = NULL WHERE id = :id AND alerted_at = :claimed_at;

-- name: queue_requeue(id, now)$
-- A dead or expired message back in the queue, its attempts from zero (a person decided it should go again).
UPDATE queued_messages
   SET status = 'queued', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL,
       alerted_at = NULL, dismissed_at = NULL, updated_at = :now
 WHERE id = :id AND status IN ('dead', 'expired')
RETURNING id;

-- name: queue_dismiss(id, now)$
-- A dead or expired message a person has seen and let go: it stays, out of "Needs you".
UPDATE queued_messages SET dismissed_at = :now, updated_at = :now
 WHERE id = :id AND status IN ('dead', 'expired') AND dismissed_at IS NULL
RETURNING id;
