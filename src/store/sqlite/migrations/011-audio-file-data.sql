-- A recording's files are kept in the store as well as on disk (the same
-- column as on PostgreSQL, where several nodes share one database and any of
-- them serves a voice message). Speech and prompts stay files only.
ALTER TABLE audio_files ADD COLUMN data BLOB;
