-- Users, their credentials, caller-ID numbers and device registry.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  account_number TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  spoken_name TEXT NOT NULL,
  time_zone TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL
) STRICT;

-- One row per credential kind: 'pin' (phone) or 'password' (web).
-- failed_count and locked_until implement the lock-out.
CREATE TABLE credentials (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('pin', 'password')),
  hash TEXT NOT NULL,
  failed_count INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind)
) STRICT;

CREATE TABLE caller_ids (
  number TEXT PRIMARY KEY,            -- E.164, with the leading +
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX caller_ids_user ON caller_ids(user_id);

-- The device registry: what the notifier escalates through, in position order.
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('phone', 'pager', 'email')),
  address TEXT NOT NULL,              -- E.164 for phones and SMPP pagers, pager id for SNPP, email address
  protocol TEXT,                      -- pagers: 'snpp' | 'smpp' | 'email'
  label TEXT,
  position INTEGER NOT NULL,
  quiet_start TEXT,                   -- 'HH:MM' in the user's time zone
  quiet_end TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (user_id, kind, address)
) STRICT;
CREATE INDEX devices_user ON devices(user_id, position);
