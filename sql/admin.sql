-- name: admin_vacuum_into(dest)!
-- An online, consistent copy of the whole database into a new file.
VACUUM INTO :dest;

-- name: admin_health()^
-- What /healthz reports, in one round trip.
SELECT (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode, sqlite_version() AS sqlite_version;
