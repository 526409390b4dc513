-- Per valid day, active (1) / inactive (0) per local clock half hour 0..47 (NULL = no reading).
-- Incremental runs read the regularity norm's 28 earlier days from here instead of re-deriving
-- them from four weeks of readings.
ALTER TABLE daily_profiles ADD COLUMN halfhour_active TINYINT[];
