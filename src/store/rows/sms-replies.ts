/**
 * SMS reply codes' rows and their mapping, shared by the SQLite and
 * PostgreSQL adapters (SQLite gives the cancelled flag as 0/1, PostgreSQL as
 * a boolean).
 */
import type { SmsReplyCode } from '../../notify/ports.js';

export interface SmsCodeRow {
  id: number;
  code: string;
  phone: string;
  alert_id: string;
  user_id: number;
  session_id: string;
  sender_name: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  cancelled: number | boolean;
}

export const toSmsCode = (r: SmsCodeRow): SmsReplyCode => ({
  id: r.id,
  code: r.code,
  phone: r.phone,
  alertId: r.alert_id,
  userId: r.user_id,
  sessionId: r.session_id,
  senderName: r.sender_name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  alertCancelled: Boolean(r.cancelled),
});

/** A code with whether its alert was cancelled (the same SQL on both backends). */
export const SELECT_SMS_CODE = `SELECT c.id, c.code, c.phone, c.alert_id, c.user_id, c.session_id, c.sender_name, c.created_at,
  c.expires_at, c.used_at, (a.state = 'cancelled') AS cancelled
  FROM notify_sms_codes c JOIN notify_alerts a ON a.id = c.alert_id`;
