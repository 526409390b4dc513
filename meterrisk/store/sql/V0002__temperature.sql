-- Daily mean outdoor temperature in the town (local dates), for weather-normalised features.
CREATE TABLE temperature (
    local_date DATE PRIMARY KEY,
    temp_c     DOUBLE NOT NULL
);
