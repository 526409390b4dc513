-- Every risk-list file written (meterrisk/export/parquet.py): who may hold which list, and
-- which files a resident's withdrawal must chase. Never the pseudonymisation key.
CREATE SEQUENCE export_id START 1;

CREATE TABLE exports (
    export_id     INTEGER   PRIMARY KEY DEFAULT nextval('export_id'),
    exported_at   TIMESTAMP NOT NULL,   -- UTC
    command       VARCHAR   NOT NULL,   -- 'meterrisk export ...' or 'risk-list flow'
    as_of         DATE      NOT NULL,
    model_version VARCHAR   NOT NULL,
    promoted      BOOLEAN,              -- the list was scored with the promoted model
    id_kind       VARCHAR   NOT NULL,   -- registry_id (care staff) | hmac_sha256 (research, vendor)
    format        VARCHAR   NOT NULL,   -- parquet | csv
    rows_exported BIGINT    NOT NULL,
    path          VARCHAR   NOT NULL,   -- absolute path of the file
    sha256        VARCHAR   NOT NULL    -- of the file as written
);
