-- The temperature table the last feature sync saw (row count and content hash), so loading
-- temperatures refreshes the windows' temperature features without --full (issue 13).
ALTER TABLE feature_sync ADD COLUMN temperature_fingerprint VARCHAR;
