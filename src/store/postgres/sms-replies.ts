/**
 * SMS reply codes (notify's SmsReplyStore) on PostgreSQL (migration 049). A
 * code is marked used by one conditional UPDATE: of two replies racing on
 * any nodes, one wins.
 */
import type { NewSmsReplyCode, SmsReplyCode, SmsReplyStore } from '../../notify/ports.js';
import type { PgDb } from './db.js';
import { SELECT_SMS_CODE, type SmsCodeRow, toSmsCode } from '../rows/sms-replies.js';

/** Live at $1 (now). */
const LIVE = "c.used_at IS NULL AND c.expires_at > $1 AND a.state <> 'cancelled'";

export class PgSmsReplies implements SmsReplyStore {
  constructor(private readonly db: PgDb) {}

  async isLive(code: string, now: number): Promise<boolean> {
    return (await this.db.row(`${SELECT_SMS_CODE} WHERE ${LIVE} AND c.code = $2 LIMIT 1`, [now, code])) !== null;
  }

  async liveFor(alertId: string, phone: string, now: number): Promise<SmsReplyCode | null> {
    const r = await this.db.row<SmsCodeRow>(
      `${SELECT_SMS_CODE} WHERE ${LIVE} AND c.alert_id = $2 AND c.phone = $3 ORDER BY c.id DESC LIMIT 1`,
      [now, alertId, phone],
    );
    return r ? toSmsCode(r) : null;
  }

  async insert(row: NewSmsReplyCode): Promise<SmsReplyCode> {
    const inserted = await this.db.row<{ id: number }>(
      `INSERT INTO notify_sms_codes (code, phone, alert_id, user_id, session_id, sender_name, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [row.code, row.phone, row.alertId, row.userId, row.sessionId, row.senderName, row.createdAt, row.expiresAt],
    );
    const r = await this.db.row<SmsCodeRow>(`${SELECT_SMS_CODE} WHERE c.id = $1`, [inserted?.id]);
    return toSmsCode(r as SmsCodeRow);
  }

  async byCode(code: string): Promise<SmsReplyCode[]> {
    return (
      await this.db.rows<SmsCodeRow>(`${SELECT_SMS_CODE} WHERE c.code = $1 ORDER BY c.id DESC LIMIT 20`, [code])
    ).map(toSmsCode);
  }

  async markUsed(id: number, now: number): Promise<boolean> {
    return (
      (await this.db.count('UPDATE notify_sms_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL', [now, id])) > 0
    );
  }

  async anyLive(now: number): Promise<boolean> {
    return (await this.db.row(`${SELECT_SMS_CODE} WHERE ${LIVE} LIMIT 1`, [now])) !== null;
  }

  purge(before: number): Promise<number> {
    return this.db.count('DELETE FROM notify_sms_codes WHERE expires_at < $1', [before]);
  }
}
