-- What the last completed daily-feature sync had seen, so the next one can find new readings
-- by file id instead of hashing every household-day (meterrisk/features/changes.py).
-- Readings are never updated in place: a row arrives with a new file_id or is deleted, so
-- "row count = count then + rows with a newer file_id" proves nothing else changed.
CREATE TABLE feature_sync (
    file_watermark BIGINT    NOT NULL,  -- highest readings.file_id the sync included
    readings_count BIGINT    NOT NULL,  -- rows in readings at that point
    synced_at      TIMESTAMP NOT NULL
);
