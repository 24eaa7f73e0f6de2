-- Idempotent posting: a client may name a post with its own id (1-64 visible
-- ASCII characters); a retry with the same id by the same sender in the same
-- session finds the message stored the first time instead of storing another.
-- Partial index: posts without an id (most of them) cost it nothing. As on
-- SQLite (027-client-message-id.sql).
ALTER TABLE messages ADD COLUMN client_message_id TEXT;
CREATE UNIQUE INDEX messages_client_id ON messages(from_user_id, session_id, client_message_id)
  WHERE client_message_id IS NOT NULL;
