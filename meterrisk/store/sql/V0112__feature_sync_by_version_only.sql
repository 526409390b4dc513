-- The feature sync finds changed days by reading_days.version (V0110): the readings file-id
-- watermark and row count it used to keep are no longer read by anything.
ALTER TABLE feature_sync DROP COLUMN file_watermark;
ALTER TABLE feature_sync DROP COLUMN readings_count;
