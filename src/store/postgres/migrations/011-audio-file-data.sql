-- A recording's files are kept in the store as well as on the disk of the node
-- that received it: with several nodes on one database, any node serves a
-- voice message (a URL is signed by the node that reads it out), and a reply
-- outlives the machine it was recorded on. Speech and prompts stay files only
-- (each node renders its own copy from the words).
ALTER TABLE audio_files ADD COLUMN data BYTEA;
