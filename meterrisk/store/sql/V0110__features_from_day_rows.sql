-- Daily features are computed from reading_days (issue 12): changed days are found by the day
-- rows' version, not by hashing readings (meterrisk/features/changes.py). feature_state keeps,
-- per computed day, the day-row version it was computed from and when (model/dataset.py reads
-- computed_at to tell a stale window); profiles become fixed-size arrays, written as computed.
ALTER TABLE feature_sync ADD COLUMN days_version BIGINT;
DELETE FROM feature_sync;  -- the next feature run is a full one

DROP TABLE feature_state;
CREATE TABLE feature_state (
    household_id VARCHAR   NOT NULL,
    local_date   DATE      NOT NULL,
    days_version BIGINT,              -- reading_days.version the day's features were computed from
    computed_at  TIMESTAMP NOT NULL
);

DROP TABLE daily_profiles;
-- Per valid day: energy above baseload and active half hours per local clock hour 0..23, and
-- for regularity which clock half hours 0..47 had a reading and which were active, as bit b of
-- two integers (48 values as 2: writing profiles was a third of a full feature run).
CREATE TABLE daily_profiles (
    household_id        VARCHAR NOT NULL,
    local_date          DATE NOT NULL,
    hourly_excess_kwh   DOUBLE[24],
    hourly_active_slots INTEGER[24],
    halfhour_seen       BIGINT,   -- bit b: clock half hour b had a reading
    halfhour_active     BIGINT    -- bit b: ... and one of its readings was active
);
