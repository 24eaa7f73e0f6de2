-- A member who left or declined reads the session up to that moment only:
-- the id of the session's last message when they left (NULL = no limit).
ALTER TABLE session_members ADD COLUMN read_until INTEGER;
