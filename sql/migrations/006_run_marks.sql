-- A run starts at an agent's `init` or after the last run's `result` (app/run_view.py). Finding where the run
-- that holds an event began reads only these marks, not every event of a long run.
CREATE INDEX ticket_events_run_marks ON ticket_events (ticket_id, seq) WHERE event_type IN ('system', 'result');

PRAGMA user_version = 6;
