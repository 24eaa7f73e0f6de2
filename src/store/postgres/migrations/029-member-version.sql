-- A session's membership version: it changes with every change to the
-- session's members (added, state changed, removed), whoever makes it. A node
-- may keep a session's membership in memory to check a post against; the
-- group commit reads this version (FOR SHARE: a membership change waits for
-- the commit, or the commit for the change) in the same transaction as the
-- message, so a post checked against a stale copy is never stored. As on
-- SQLite (029-member-version.sql).
ALTER TABLE im_sessions ADD COLUMN member_version BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION session_members_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE im_sessions SET member_version = member_version + 1
    WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.session_id ELSE NEW.session_id END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER session_members_version AFTER INSERT OR UPDATE OR DELETE ON session_members
  FOR EACH ROW EXECUTE FUNCTION session_members_version();
