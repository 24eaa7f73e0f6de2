-- Reply codes printed in pages sent over SMPP ("Reply 4821 + your text to answer Alice").
-- A code admits one text-message reply from the number the page went to, into the alert's session,
-- while it is unused, before expires_at, and while its alert is not cancelled.
CREATE TABLE notify_sms_codes (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  phone TEXT NOT NULL,                 -- E.164 with '+': where the page went
  alert_id TEXT NOT NULL REFERENCES notify_alerts(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  sender_name TEXT NOT NULL,           -- who the reply answers ("to answer Alice")
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;
CREATE INDEX notify_sms_codes_code ON notify_sms_codes(code);
CREATE INDEX notify_sms_codes_alert ON notify_sms_codes(alert_id);
