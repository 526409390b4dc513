-- A delivery is identified by its path relative to the inbox (or to the folder given to
-- `meterrisk ingest`, or the file argument as given) plus its SHA-256, not by its bare name:
-- per-household folders repeat the same file names. Rows from before this version only
-- knew the bare name, which is the best identity they have.
ALTER TABLE ingest_files ADD COLUMN delivery_path VARCHAR;
UPDATE ingest_files SET delivery_path = file_name;
-- Where the flow kept the delivered bytes: data/archive/<date>/<delivery_path> (or a copy beside
-- it with the hash in the name), or data/inbox/failed/...; NULL when loaded from the command line.
ALTER TABLE ingest_files ADD COLUMN archived_as VARCHAR;
