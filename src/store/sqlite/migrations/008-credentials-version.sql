-- The credentials version: one number that changes whenever what a token
-- stands for may have changed - a session object ended (log-out, password
-- change, idle expiry, its user deleted) or moved to another node, or a
-- user's row changed or went. A node may keep tokens it has resolved in
-- memory and serve them again while this number stays the same: it reads the
-- number on each request, so an end committed anywhere (another node,
-- phonectl) is seen by the next request. Users' changes bump it here; the
-- session objects' ends and moves bump it in the same transaction as the
-- change (the store's own statements: session_objects comes in 020).
CREATE TABLE credentials_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
) STRICT;
INSERT INTO credentials_version (id, version) VALUES (1, 0);
CREATE TRIGGER users_changed_credentials AFTER UPDATE ON users
BEGIN
  UPDATE credentials_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER users_deleted_credentials AFTER DELETE ON users
BEGIN
  UPDATE credentials_version SET version = version + 1 WHERE id = 1;
END;
