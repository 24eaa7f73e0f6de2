-- Failed log-on tries against names that have no such credential (an unknown
-- username or account number, or a user without a password): they are counted
-- and lock exactly as a real credential does, so the answers do not tell which
-- accounts exist. `key` is "<kind>:<name as given>"; idle rows are pruned.
CREATE TABLE logon_tries (
  key TEXT PRIMARY KEY,
  failed_count INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX logon_tries_updated ON logon_tries(updated_at);
