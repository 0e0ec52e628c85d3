-- The F1 Predictor's seasons (app/store/f1.py): races, and per driver the prediction and the result side by side.
-- A post of predictions (or results) is the whole of them for its race: drivers it leaves out lose theirs.

-- name: f1_upsert_race(season, round, name, date, circuit, now)!
INSERT INTO f1_races (season, round, name, date, circuit, updated_at)
VALUES (:season, :round, :name, :date, :circuit, :now)
ON CONFLICT (season, round) DO UPDATE SET
  name = excluded.name, date = excluded.date, circuit = excluded.circuit, updated_at = excluded.updated_at;

-- name: f1_known_drivers(season, round, drivers)$
-- How many of these drivers the race already has a row for (the rest are new).
SELECT count(*) FROM f1_entries
 WHERE season = :season AND round = :round AND driver IN (SELECT value FROM json_each(:drivers));

-- name: f1_upsert_predictions(season, round, rows, predicted_at)!
-- :rows is a JSON array of [driver, team, position, win, podium, points]; a known driver's prediction is replaced,
-- the result beside it kept. (A team left blank keeps the one the result gave.)
INSERT INTO f1_entries (season, round, driver, team, predicted_position, win, podium, points, predicted_at)
SELECT :season, :round, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5,
       :predicted_at
  FROM json_each(:rows) r
 WHERE true
ON CONFLICT (season, round, driver) DO UPDATE SET
  team = iif(excluded.team = '', f1_entries.team, excluded.team),
  predicted_position = excluded.predicted_position, win = excluded.win, podium = excluded.podium,
  points = excluded.points, predicted_at = excluded.predicted_at;

-- name: f1_clear_predictions(season, round, drivers)!
-- The prediction of every driver of the race the last post left out.
UPDATE f1_entries SET predicted_position = NULL, win = NULL, podium = NULL, points = NULL, predicted_at = NULL
 WHERE season = :season AND round = :round AND driver NOT IN (SELECT value FROM json_each(:drivers));

-- name: f1_upsert_results(season, round, rows, result_at)!
-- :rows is a JSON array of [driver, team, position or null, status].
INSERT INTO f1_entries (season, round, driver, team, actual_position, status, result_at)
SELECT :season, :round, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, :result_at
  FROM json_each(:rows) r
 WHERE true
ON CONFLICT (season, round, driver) DO UPDATE SET
  team = iif(excluded.team = '', f1_entries.team, excluded.team),
  actual_position = excluded.actual_position, status = excluded.status, result_at = excluded.result_at;

-- name: f1_clear_results(season, round, drivers)!
UPDATE f1_entries SET actual_position = NULL, status = '', result_at = NULL
 WHERE season = :season AND round = :round AND driver NOT IN (SELECT value FROM json_each(:drivers));

-- name: f1_drop_empty(season, round)!
-- A driver left with neither a prediction nor a result is no longer in the race.
DELETE FROM f1_entries
 WHERE season = :season AND round = :round AND predicted_at IS NULL AND result_at IS NULL;

-- name: f1_seasons()
SELECT season, count(*) AS races FROM f1_races GROUP BY season ORDER BY season DESC;

-- name: f1_races(season)
-- A season's calendar, with how many drivers each race has a prediction and a result for.
SELECT r.season, r.round, r.name, r.date, r.circuit,
       (SELECT count(*) FROM f1_entries e
         WHERE e.season = r.season AND e.round = r.round AND e.predicted_at IS NOT NULL) AS predicted,
       (SELECT count(*) FROM f1_entries e
         WHERE e.season = r.season AND e.round = r.round AND e.result_at IS NOT NULL) AS resulted
  FROM f1_races r
 WHERE r.season = :season
 ORDER BY r.round;

-- name: f1_entries(season)
-- Every driver of every race of a season: by round, then as they finished (the unclassified last), then as
-- predicted.
SELECT round, driver, team, predicted_position, win, podium, points, actual_position, status,
       result_at IS NOT NULL AS has_result
  FROM f1_entries
 WHERE season = :season
 ORDER BY round, actual_position IS NULL, actual_position, predicted_position IS NULL, predicted_position, driver;

-- name: f1_count_races()$
-- How many races there are at all (`mc demo` fills only a database without any).
SELECT count(*) FROM f1_races;
