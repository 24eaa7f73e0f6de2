-- An alert whose ladder ended with no step delivered (every call, page and
-- email failed or was skipped) shows as failed, not as done.
ALTER TABLE notify_alerts ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
