-- Withdrawals (issue 11): a withdrawal forgets the household (every row of it is deleted,
-- its `households` row too), so this table is both the tombstone that keeps a withdrawal final
-- until a later consent and the audit row of the purge. It never holds the registry id: only a
-- salted SHA-256 of it (a fresh random salt per row, so rows cannot be linked to each other or
-- to another store's), which a registry load can test an id against. The pseudonym is kept for
-- the audit (the town can match it to what it exported earlier); nothing else in the store may
-- hold it once the household is purged.
CREATE SEQUENCE withdrawal_id START 1;

CREATE TABLE withdrawals (
    withdrawal_id            INTEGER PRIMARY KEY,
    id_salt                  VARCHAR   NOT NULL,  -- 32 hex characters, random per row
    id_sha256                VARCHAR   NOT NULL,  -- sha256(id_salt || household_id), hex
    pseudonym                VARCHAR   NOT NULL,  -- the household's pseudonym when it withdrew
    withdrawn_on             DATE      NOT NULL,  -- the day consent ended
    purged_at                TIMESTAMP NOT NULL,  -- UTC
    source                   VARCHAR   NOT NULL,  -- 'withdraw' (the command) | 'registry' (a registry load) | 'scheduled' (the daily run)
    rows_deleted             JSON      NOT NULL,  -- {"table": rows deleted, ...}
    files_touched            JSON      NOT NULL,  -- [{"file_id": ..., ...}]; the file-side steps add to it
    superseded_by_consent_on DATE                 -- set when a later consent re-registers the household
);
