-- Life Manager's scanned items and the F1 Predictor's seasons: data two outside programs post
-- (POST /api/v1/life-manager/scans, /api/v1/f1/predictions and /results).

-- One row per item a scanner reported, known by (source, item_key): a later scan with the same id updates the
-- row's text, never what a person did with it (state, snoozed_until, ticket_id are only set by the page).
-- A snoozed item whose day has come reads as open again (the queries compare snoozed_until with today).
CREATE TABLE life_items (
  id               INTEGER PRIMARY KEY,
  source           TEXT    NOT NULL,             -- 'whatsapp', 'email' …: the scanner's name for where it looked
  item_key         TEXT    NOT NULL,             -- the scanner's id of the item, unique within its source
  sender           TEXT    NOT NULL,
  subject          TEXT    NOT NULL DEFAULT '',
  snippet          TEXT    NOT NULL DEFAULT '',
  received_at      TEXT    NOT NULL,             -- UTC stamp
  urgency          TEXT    NOT NULL CHECK (urgency IN ('low', 'normal', 'high', 'urgent')),
  suggested_action TEXT    NOT NULL DEFAULT '',
  due              TEXT,                         -- a date, YYYY-MM-DD
  scanned_at       TEXT    NOT NULL,             -- the scan that last reported it (an older scan changes nothing)
  first_seen_at    TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL,
  state            TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'snoozed', 'dismissed')),
  snoozed_until    TEXT,                         -- a date: the item is open again from that day
  state_changed_at TEXT,
  ticket_id        INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
  UNIQUE (source, item_key)
);
CREATE INDEX life_items_state ON life_items (state, urgency, source);
CREATE INDEX life_items_ticket ON life_items (ticket_id) WHERE ticket_id IS NOT NULL;  -- ON DELETE SET NULL

-- Each source's last scan, for "WhatsApp scanned 5 min ago, 12 items".
CREATE TABLE life_sources (
  source      TEXT    PRIMARY KEY,
  scanned_at  TEXT    NOT NULL,
  items       INTEGER NOT NULL,
  reported_at TEXT    NOT NULL
) WITHOUT ROWID;

-- The F1 calendar, as the predictor posts it with each race's predictions or results.
CREATE TABLE f1_races (
  season     INTEGER NOT NULL,
  round      INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  date       TEXT    NOT NULL,                   -- YYYY-MM-DD
  circuit    TEXT    NOT NULL,
  updated_at TEXT    NOT NULL,
  PRIMARY KEY (season, round)
) WITHOUT ROWID;

-- One row per driver per race, holding the prediction and the result side by side (each posted on its own,
-- in either order): predicted vs actual is then one row, and a re-post updates its half only.
CREATE TABLE f1_entries (
  season             INTEGER NOT NULL,
  round              INTEGER NOT NULL,
  driver             TEXT    NOT NULL,
  team               TEXT    NOT NULL DEFAULT '',
  predicted_position INTEGER,
  win                REAL,                       -- probabilities, 0-1
  podium             REAL,
  points             REAL,
  predicted_at       TEXT,
  actual_position    INTEGER,                    -- NULL with a result: not classified (status says why)
  status             TEXT    NOT NULL DEFAULT '',
  result_at          TEXT,
  PRIMARY KEY (season, round, driver),
  FOREIGN KEY (season, round) REFERENCES f1_races (season, round) ON DELETE CASCADE
) WITHOUT ROWID;

PRAGMA user_version = 17;
