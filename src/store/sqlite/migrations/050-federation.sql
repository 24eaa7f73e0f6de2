-- Federation: peer communities, the durable outbound queue per peer, the
-- events and nonces already received, and the local stand-ins (shadow
-- accounts) of remote members.
CREATE TABLE federation_peers (
  name TEXT PRIMARY KEY,            -- the peer's community domain, e.g. b.example
  base_url TEXT NOT NULL,
  public_key TEXT NOT NULL,         -- Ed25519 SPKI, base64
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
  added_at INTEGER NOT NULL,
  last_ok_at INTEGER,
  last_error TEXT
) STRICT;

CREATE TABLE federation_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  peer TEXT NOT NULL REFERENCES federation_peers(name) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (peer, event_id)
) STRICT;
CREATE INDEX federation_outbox_peer ON federation_outbox (peer, seq);

CREATE TABLE federation_received (
  peer TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (peer, event_id)
) STRICT;

CREATE TABLE federation_nonces (
  peer TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (peer, nonce)
) STRICT;
CREATE INDEX federation_nonces_expiry ON federation_nonces (expires_at);

-- A remote member is a local account (no password, PIN or caller ID) that
-- stands for user@community; it is kept apart from the XMPP gateway's shadows.
CREATE TABLE federation_remote_members (
  address TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  peer TEXT NOT NULL
) STRICT;

-- The address a peer knows one of our users by in a session (a phone number
-- rather than the username): what we send about them there uses it.
CREATE TABLE federation_session_aliases (
  session_id TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  PRIMARY KEY (session_id, user_id)
) STRICT;
