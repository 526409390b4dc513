-- readings, households, ingest accounting, quarantine, day quality
CREATE TABLE settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE households (
    household_id         VARCHAR PRIMARY KEY,
    pseudonym            VARCHAR NOT NULL,
    birth_year           INTEGER,
    lives_alone          BOOLEAN,
    consent_given_on     DATE,
    consent_withdrawn_on DATE,
    care_certified       BOOLEAN,
    has_solar            BOOLEAN,
    district             VARCHAR,
    updated_at           TIMESTAMP NOT NULL
);

CREATE SEQUENCE ingest_file_id START 1;

CREATE TABLE ingest_files (
    file_id               INTEGER PRIMARY KEY,
    path                  VARCHAR NOT NULL,
    file_name             VARCHAR NOT NULL,
    sha256                VARCHAR NOT NULL,
    size_bytes            BIGINT,
    profile               VARCHAR NOT NULL,
    layout                VARCHAR NOT NULL,
    rows_read             BIGINT NOT NULL,
    rows_loaded           BIGINT NOT NULL,
    rows_quarantined      BIGINT NOT NULL,
    rows_duplicate        BIGINT NOT NULL,
    rows_rejected_consent BIGINT NOT NULL,
    started_at            TIMESTAMP NOT NULL,
    finished_at           TIMESTAMP,
    status                VARCHAR NOT NULL,   -- loaded | loaded_with_quarantine | failed | replaced
    message               VARCHAR,
    replaces_file_id      INTEGER
);

CREATE TABLE readings (
    household_id VARCHAR   NOT NULL,
    ts_utc       TIMESTAMP NOT NULL,  -- start of the half hour, UTC
    local_ts     TIMESTAMP NOT NULL,  -- the same instant on the local wall clock
    local_date   DATE      NOT NULL,
    slot         SMALLINT  NOT NULL,  -- 0-based half-hour of the local day (elapsed time)
    kwh          DOUBLE    NOT NULL,  -- energy used in the half hour; 0 is a reading
    file_id      INTEGER   NOT NULL   -- ingest_files.file_id that loaded it
);

CREATE TABLE quarantine (
    file_id     INTEGER NOT NULL,
    line_number BIGINT,               -- 1-based physical line (CSV) or row (Parquet)
    column_name VARCHAR,
    reason_code VARCHAR NOT NULL,
    message     VARCHAR NOT NULL,
    raw_line    VARCHAR
);

-- Slots each local date has in the store's zone (46/48/50), for every date ingest has seen.
CREATE TABLE local_calendar (
    local_date     DATE PRIMARY KEY,
    expected_slots SMALLINT NOT NULL
);

CREATE VIEW household_day_quality AS
WITH span AS (
    SELECT household_id, min(local_date) AS first_date, max(local_date) AS last_date
    FROM readings GROUP BY household_id
), days AS (
    SELECT s.household_id, c.local_date, c.expected_slots
    FROM span s JOIN local_calendar c ON c.local_date BETWEEN s.first_date AND s.last_date
), counts AS (
    SELECT household_id, local_date,
           count(*) AS present_slots,
           count(*) FILTER (WHERE kwh = 0) AS zero_slots,
           sum(kwh) AS kwh
    FROM readings GROUP BY household_id, local_date
)
SELECT d.household_id, d.local_date, d.expected_slots,
       coalesce(c.present_slots, 0) AS present_slots,
       coalesce(c.zero_slots, 0) AS zero_slots,
       d.expected_slots - coalesce(c.present_slots, 0) AS missing_slots,
       coalesce(c.present_slots, 0) / d.expected_slots AS coverage,
       c.kwh
FROM days d LEFT JOIN counts c USING (household_id, local_date);
