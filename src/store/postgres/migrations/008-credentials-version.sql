-- The credentials version: one number that changes whenever what a token
-- stands for may have changed - a session object ended (log-out, password
-- change, idle expiry, its user deleted) or moved to another node, or a
-- user's row changed or went. A node may keep tokens it has resolved in
-- memory and serve them again while this number stays the same: it reads the
-- number on each request, so an end committed on any node is seen by the next
-- request on every node. Users' changes bump it here; the session objects'
-- ends and moves bump it in the same statement as the change (the store's
-- own statements: session_objects comes in 020). As on SQLite
-- (008-credentials-version.sql).
CREATE TABLE credentials_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO credentials_version (id, version) VALUES (1, 0);
CREATE FUNCTION credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE credentials_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END;
$$;
CREATE TRIGGER users_changed_credentials AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION credentials_changed();
