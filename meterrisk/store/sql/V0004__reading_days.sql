-- The day table (issue 12): one row per household and local day with the day's half hours as
-- one list, the layout the feature engine reads. Maintained by ingest in the same transaction
-- as the readings (meterrisk/ingest/days.py, which documents the rules); `readings` stays the
-- source of truth for SQL users. Keys (household_id, local_date) are kept unique by the writer
-- (delete + insert of the changed days), not by a constraint.

-- One value per writing transaction. The store has one writer at a time and the value is drawn
-- inside the transaction, so versions are monotone in commit order: `version > last synced`
-- finds every changed day.
CREATE SEQUENCE reading_days_version START 1;

CREATE TABLE reading_days (
    household_id VARCHAR   NOT NULL,
    local_date   DATE      NOT NULL,
    slots        SMALLINT  NOT NULL,  -- half hours of the date in the store's zone (46/48/50): local_calendar.expected_slots
    n_readings   SMALLINT  NOT NULL,  -- readings present (non-null kwh entries); 0 = every reading of the day was removed
    kwh          DOUBLE[]  NOT NULL,  -- length = slots (longer only if a reading's slot lies beyond); element slot+1 = readings.kwh; NULL = no reading; 0 is a reading
    file_ids     INTEGER[] NOT NULL,  -- distinct readings.file_id that contributed, ascending
    version      BIGINT    NOT NULL   -- reading_days_version of the transaction that last changed the row
);

-- Backfill from the readings already stored, all under one version. Same rules as the writer
-- (meterrisk/ingest/days.py `_DAY_ROWS`; tests/ingest/test_reading_days.py checks they agree).
SELECT nextval('reading_days_version');

INSERT INTO reading_days
WITH per_day AS (
    SELECT household_id, local_date, count(*) AS n, max(slot) AS max_slot,
           list(kwh) AS kwhs, list(slot) AS present, list_sort(list_distinct(list(file_id))) AS file_ids
    FROM readings
    GROUP BY household_id, local_date
), slotted AS (
    SELECT p.*,
           coalesce(c.expected_slots,
                    epoch(((p.local_date + 1)::TIMESTAMP AT TIME ZONE (SELECT value FROM settings WHERE key = 'timezone'))
                          - (p.local_date::TIMESTAMP AT TIME ZONE (SELECT value FROM settings WHERE key = 'timezone')))::BIGINT // 1800) AS slots
    FROM per_day p LEFT JOIN local_calendar c USING (local_date)
), sized AS (
    SELECT *, greatest(slots, max_slot + 1) AS len FROM slotted
)
SELECT household_id, local_date, slots::SMALLINT, n::SMALLINT,
       CASE WHEN n = len AND present = range(len)::SMALLINT[] THEN kwhs  -- a full day, slots in order
            ELSE list_transform(range(len), lambda i: kwhs[list_position(present, i)]) END,
       file_ids,
       currval('reading_days_version')
FROM sized;
