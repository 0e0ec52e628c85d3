-- name: vacuum_into(dest)!
-- An online, consistent copy of the whole database into a new file.
VACUUM INTO :dest;
