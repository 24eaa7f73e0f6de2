-- Reply links are good for one log-in: the nonce of each used link, kept
-- until the link would have expired anyway.
CREATE TABLE reply_link_uses (
  nonce TEXT PRIMARY KEY,
  used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX reply_link_uses_expiry ON reply_link_uses(expires_at);
