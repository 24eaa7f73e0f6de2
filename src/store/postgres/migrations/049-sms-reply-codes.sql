-- Reply codes printed in pages sent over SMPP ("Reply 4821 + your text to answer Alice").
-- A code admits one text-message reply from the number the page went to, into the alert's session,
-- while it is unused, before expires_at, and while its alert is not cancelled.
-- Codes are marked used with UPDATE ... WHERE used_at IS NULL: one reply wins.
CREATE TABLE notify_sms_codes (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL,
  phone TEXT NOT NULL,                 -- E.164 with '+': where the page went
  alert_id TEXT NOT NULL REFERENCES notify_alerts(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  sender_name TEXT NOT NULL,           -- who the reply answers ("to answer Alice")
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX notify_sms_codes_code ON notify_sms_codes(code);
CREATE INDEX notify_sms_codes_alert ON notify_sms_codes(alert_id);
