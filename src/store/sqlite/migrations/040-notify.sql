-- The notifier's durable jobs: an alert per recipient with no link, the
-- messages folded into it, and one row per step of its escalation ladder.

-- state: collecting (the collect delay runs; new messages fold in),
-- running (the ladder is under way), done (the ladder ran to its end or was
-- answered), cancelled (the recipient showed up, read the message, or an
-- administrator cancelled it). reason says why it ended.
CREATE TABLE notify_alerts (
  id TEXT PRIMARY KEY,
  recipient_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('collecting', 'running', 'done', 'cancelled')),
  reason TEXT,
  is_test INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  collect_until INTEGER NOT NULL,
  ended_at INTEGER
) STRICT;
-- At most one open alert per recipient: a burst folds into it.
CREATE UNIQUE INDEX notify_alerts_open ON notify_alerts(recipient_id) WHERE state IN ('collecting', 'running');
CREATE INDEX notify_alerts_state ON notify_alerts(state, collect_until);

CREATE TABLE notify_alert_messages (
  alert_id TEXT NOT NULL REFERENCES notify_alerts(id) ON DELETE CASCADE,
  message_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  from_user_id INTEGER NOT NULL,
  from_name TEXT NOT NULL,
  from_spoken_name TEXT NOT NULL,
  text TEXT NOT NULL,
  audio_id TEXT,
  audio_url TEXT,
  at INTEGER NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (alert_id, message_id)
) STRICT;
CREATE INDEX notify_alert_messages_message ON notify_alert_messages(message_id);

-- One row per step. state: scheduled (waiting for due_at; NULL = not yet due,
-- the step before it has not ended), in-progress (claimed: being performed),
-- delivered, failed, cancelled, skipped (quiet hours, no call port, device gone).
-- A step leaves in-progress only once; a step found in-progress after a crash
-- is never performed again (see notifier.ts).
CREATE TABLE notify_steps (
  id INTEGER PRIMARY KEY,
  alert_id TEXT NOT NULL REFERENCES notify_alerts(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('call', 'page', 'email')),
  device_id INTEGER,
  protocol TEXT,
  address TEXT NOT NULL,
  wait_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'in-progress', 'delivered', 'failed', 'cancelled', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  node_id TEXT,
  started_at INTEGER,
  ended_at INTEGER,
  outcome TEXT,
  error_code TEXT,
  UNIQUE (alert_id, position)
) STRICT;
CREATE INDEX notify_steps_due ON notify_steps(state, due_at);

-- A user's own ladder, set from the CLI: device ids in order, each with its wait.
CREATE TABLE notify_ladders (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  steps TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
