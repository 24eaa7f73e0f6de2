-- The XMPP gateway (XEP-0114 component): outside contacts, their rosters with
-- local users, the IM session each conversation maps to, the outbound queue
-- and the connection's state.

-- An outside JID and the shadow account that stands for it in sessions and contacts.
CREATE TABLE gateway_contacts (
  jid TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
) STRICT;

-- Subscriptions between an outside contact and a local user, in XMPP terms:
-- 'asked' the contact asked and waits for the local user's approval;
-- 'asking' the local user asked and waits for the contact's 'subscribed';
-- 'approved' both see each other.
CREATE TABLE gateway_roster (
  contact_user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  local_user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('asked', 'asking', 'approved')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (contact_user_id, local_user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX gateway_roster_local ON gateway_roster(local_user_id);

-- The IM session a conversation between a contact and a local user runs in.
CREATE TABLE gateway_sessions (
  contact_user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  local_user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL REFERENCES im_sessions(id) ON DELETE CASCADE,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (contact_user_id, local_user_id)
) STRICT, WITHOUT ROWID;

-- Messages to XMPP, each sent once: stanza_id is the message and the recipient.
CREATE TABLE gateway_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stanza_id TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
) STRICT;
CREATE INDEX gateway_outbox_unsent ON gateway_outbox(id) WHERE sent_at IS NULL;

-- The component connection as each node last saw it (phonectl gateway status).
CREATE TABLE gateway_status (
  node_id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  connects INTEGER NOT NULL,
  last_error TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
