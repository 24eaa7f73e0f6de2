/** SMS reply codes (notify's SmsReplyStore) on SQLite (migration 049). */
import type { NewSmsReplyCode, SmsReplyCode } from '../../notify/ports.js';
import type { Db } from './db.js';
import { SELECT_SMS_CODE, type SmsCodeRow, toSmsCode } from '../rows/sms-replies.js';

const LIVE = "c.used_at IS NULL AND c.expires_at > ? AND a.state <> 'cancelled'";

/** Synchronous; offered as SmsReplyStore through `promised` (index.ts). markUsed is one conditional UPDATE. */
export class SqliteSmsReplies {
  constructor(private readonly db: Db) {}

  isLive(code: string, now: number): boolean {
    return this.db.prepare(`${SELECT_SMS_CODE} WHERE c.code = ? AND ${LIVE} LIMIT 1`).get(code, now) !== undefined;
  }

  liveFor(alertId: string, phone: string, now: number): SmsReplyCode | null {
    const r = this.db
      .prepare(`${SELECT_SMS_CODE} WHERE c.alert_id = ? AND c.phone = ? AND ${LIVE} ORDER BY c.id DESC LIMIT 1`)
      .get(alertId, phone, now) as SmsCodeRow | undefined;
    return r ? toSmsCode(r) : null;
  }

  insert(row: NewSmsReplyCode): SmsReplyCode {
    const info = this.db
      .prepare(
        `INSERT INTO notify_sms_codes (code, phone, alert_id, user_id, session_id, sender_name, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(row.code, row.phone, row.alertId, row.userId, row.sessionId, row.senderName, row.createdAt, row.expiresAt);
    return toSmsCode(
      this.db.prepare(`${SELECT_SMS_CODE} WHERE c.id = ?`).get(Number(info.lastInsertRowid)) as SmsCodeRow,
    );
  }

  byCode(code: string): SmsReplyCode[] {
    return (
      this.db.prepare(`${SELECT_SMS_CODE} WHERE c.code = ? ORDER BY c.id DESC LIMIT 20`).all(code) as SmsCodeRow[]
    ).map(toSmsCode);
  }

  markUsed(id: number, now: number): boolean {
    return (
      this.db.prepare('UPDATE notify_sms_codes SET used_at = ? WHERE id = ? AND used_at IS NULL').run(now, id).changes >
      0
    );
  }

  anyLive(now: number): boolean {
    return this.db.prepare(`${SELECT_SMS_CODE} WHERE ${LIVE} LIMIT 1`).get(now) !== undefined;
  }

  purge(before: number): number {
    return this.db.prepare('DELETE FROM notify_sms_codes WHERE expires_at < ?').run(before).changes;
  }
}
