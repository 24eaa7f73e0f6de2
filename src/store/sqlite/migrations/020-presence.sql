-- Presence: the state a user chose, and their open links (on any node).
CREATE TABLE presence_status (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('online', 'away', 'busy', 'offline')),
  status_text TEXT,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE links (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('web', 'websocket', 'phone', 'xmpp')),
  node_id TEXT NOT NULL,
  opened_at INTEGER NOT NULL
) STRICT;
CREATE INDEX links_user ON links(user_id);
CREATE INDEX links_node ON links(node_id);

-- Contacts: subscriber sees target's presence once the target approved.
CREATE TABLE subscriptions (
  subscriber_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  target_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('requested', 'approved')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (subscriber_id, target_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscriptions_target ON subscriptions(target_id, state);

-- IM sessions and their members.
CREATE TABLE im_sessions (
  id TEXT PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE session_members (
  session_id TEXT NOT NULL REFERENCES im_sessions(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('invited', 'joined', 'declined', 'left')),
  invited_by INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, user_id)
) STRICT;
CREATE INDEX session_members_user ON session_members(user_id, state);

-- The message cache: the id (rowid) is the order of commit.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES im_sessions(id) ON DELETE CASCADE,
  from_user_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('text', 'voice')),
  text TEXT,
  audio_id TEXT,
  audio_url TEXT,
  node_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_session ON messages(session_id, id);

CREATE TABLE deliveries (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  recipient_id INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'read', 'notified')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (recipient_id, message_id)
) STRICT, WITHOUT ROWID;

-- Session objects: what a non-persistent client resumes with its token.
CREATE TABLE session_objects (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client TEXT NOT NULL,
  csrf TEXT NOT NULL,
  node_id TEXT NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX session_objects_user ON session_objects(user_id);
CREATE INDEX session_objects_seen ON session_objects(last_seen_at);

-- Nodes sharing this database, and their leases.
CREATE TABLE node_leases (
  node_id TEXT PRIMARY KEY,
  public_url TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- Secrets shared by the nodes of one community (the log-in form's CSRF key).
CREATE TABLE web_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Events for users whose links are on another node (presence, invitations...),
-- read by that node's tail; kept for a few minutes.
CREATE TABLE node_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id TEXT NOT NULL,
  recipient_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
