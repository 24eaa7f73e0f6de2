/** SMS reply codes (notify's SmsReplyStore) on SQLite (migration 049). */
import type { NewSmsReplyCode, SmsReplyCode } from '../../notify/ports.js';
import type { Db } from './db.js';

interface Row {
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
  cancelled: number;
}

const toCode = (r: Row): SmsReplyCode => ({
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
  alertCancelled: r.cancelled === 1,
});

const SELECT = `SELECT c.id, c.code, c.phone, c.alert_id, c.user_id, c.session_id, c.sender_name, c.created_at,
  c.expires_at, c.used_at, (a.state = 'cancelled') AS cancelled
  FROM notify_sms_codes c JOIN notify_alerts a ON a.id = c.alert_id`;
const LIVE = "c.used_at IS NULL AND c.expires_at > ? AND a.state <> 'cancelled'";

/** Synchronous; offered as SmsReplyStore through `promised` (index.ts). markUsed is one conditional UPDATE. */
export class SqliteSmsReplies {
  constructor(private readonly db: Db) {}

  isLive(code: string, now: number): boolean {
    return this.db.prepare(`${SELECT} WHERE c.code = ? AND ${LIVE} LIMIT 1`).get(code, now) !== undefined;
  }

  liveFor(alertId: string, phone: string, now: number): SmsReplyCode | null {
    const r = this.db
      .prepare(`${SELECT} WHERE c.alert_id = ? AND c.phone = ? AND ${LIVE} ORDER BY c.id DESC LIMIT 1`)
      .get(alertId, phone, now) as Row | undefined;
    return r ? toCode(r) : null;
  }

  insert(row: NewSmsReplyCode): SmsReplyCode {
    const info = this.db
      .prepare(
        `INSERT INTO notify_sms_codes (code, phone, alert_id, user_id, session_id, sender_name, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(row.code, row.phone, row.alertId, row.userId, row.sessionId, row.senderName, row.createdAt, row.expiresAt);
    return toCode(this.db.prepare(`${SELECT} WHERE c.id = ?`).get(Number(info.lastInsertRowid)) as Row);
  }

  byCode(code: string): SmsReplyCode[] {
    return (this.db.prepare(`${SELECT} WHERE c.code = ? ORDER BY c.id DESC LIMIT 20`).all(code) as Row[]).map(toCode);
  }

  markUsed(id: number, now: number): boolean {
    return (
      this.db.prepare('UPDATE notify_sms_codes SET used_at = ? WHERE id = ? AND used_at IS NULL').run(now, id).changes >
      0
    );
  }

  anyLive(now: number): boolean {
    return this.db.prepare(`${SELECT} WHERE ${LIVE} LIMIT 1`).get(now) !== undefined;
  }

  purge(before: number): number {
    return this.db.prepare('DELETE FROM notify_sms_codes WHERE expires_at < ?').run(before).changes;
  }
}
