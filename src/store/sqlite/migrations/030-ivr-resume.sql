-- Where a caller was when a call ended (the chat they were in), so that
-- calling again within the session-object lifetime offers to resume it.
CREATE TABLE ivr_resume (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
