-- A session's membership version: it changes with every change to the
-- session's members (added, state changed, removed), whoever makes it. A node
-- may keep a session's membership in memory to check a post against; the
-- group commit compares the version that copy was read at with this one, in
-- the same transaction as the message, so a post checked against a stale copy
-- is never stored (the node reads the membership again and checks once more).
ALTER TABLE im_sessions ADD COLUMN member_version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER session_members_version_insert AFTER INSERT ON session_members BEGIN
  UPDATE im_sessions SET member_version = member_version + 1 WHERE id = NEW.session_id;
END;
CREATE TRIGGER session_members_version_update AFTER UPDATE ON session_members BEGIN
  UPDATE im_sessions SET member_version = member_version + 1 WHERE id = NEW.session_id;
END;
CREATE TRIGGER session_members_version_delete AFTER DELETE ON session_members BEGIN
  UPDATE im_sessions SET member_version = member_version + 1 WHERE id = OLD.session_id;
END;
