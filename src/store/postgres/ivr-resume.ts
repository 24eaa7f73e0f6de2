/** The IVR's resume positions (IvrResumeStore) on PostgreSQL: one row per user, replaced on every write. */
import type { IvrResumeStore } from '../../ivr/ports.js';
import type { PgDb } from './db.js';

export class PgIvrResume implements IvrResumeStore {
  constructor(private readonly db: PgDb) {}

  async remember(userId: number, position: { sessionId: string }, now: number, expiresAt: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO ivr_resume (user_id, session_id, updated_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at,
         expires_at = excluded.expires_at`,
      [userId, position.sessionId, now, expiresAt],
    );
  }

  async recall(userId: number, now: number): Promise<{ sessionId: string } | null> {
    const row = await this.db.row<{ sessionId: string; expiresAt: number }>(
      'SELECT session_id AS "sessionId", expires_at AS "expiresAt" FROM ivr_resume WHERE user_id = $1',
      [userId],
    );
    if (!row) return null;
    if (row.expiresAt <= now) {
      await this.forget(userId);
      return null;
    }
    return { sessionId: row.sessionId };
  }

  async forget(userId: number): Promise<void> {
    await this.db.pool.query('DELETE FROM ivr_resume WHERE user_id = $1', [userId]);
  }
}
