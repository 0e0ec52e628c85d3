-- The worker queue: indexes for claiming, for a ticket's list, and for the reaper's alerts.

-- Claim takes the oldest queued message: this walks only queued rows, in id order.
CREATE INDEX queued_messages_claimable ON queued_messages (id) WHERE status = 'queued';
-- The ticket page lists a ticket's messages; deleting a ticket cascades through this column too.
CREATE INDEX queued_messages_ticket ON queued_messages (ticket_id, id);
-- Expired and dead messages not yet alerted: the reaper finds them without a scan, whatever the history.
CREATE INDEX queued_messages_unalerted ON queued_messages (id)
  WHERE alerted_at IS NULL AND status IN ('expired', 'dead');

PRAGMA user_version = 4;
