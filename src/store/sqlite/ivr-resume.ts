/** The IVR's resume positions (IvrResumeStore) on SQLite: one row per user, replaced on every write. */
import type { Db } from './db.js';

/** Synchronous; offered as an IvrResumeStore through `promised` (index.ts). */
export class SqliteIvrResume {
  private readonly upsert;
  private readonly select;
  private readonly remove;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO ivr_resume (user_id, session_id, updated_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at,
       expires_at = excluded.expires_at`,
    );
    this.select = db.prepare(
      'SELECT session_id AS sessionId, expires_at AS expiresAt FROM ivr_resume WHERE user_id = ?',
    );
    this.remove = db.prepare('DELETE FROM ivr_resume WHERE user_id = ?');
  }

  remember(userId: number, position: { sessionId: string }, now: number, expiresAt: number): void {
    this.upsert.run(userId, position.sessionId, now, expiresAt);
  }

  recall(userId: number, now: number): { sessionId: string } | null {
    const row = this.select.get(userId) as { sessionId: string; expiresAt: number } | undefined;
    if (!row) return null;
    if (row.expiresAt <= now) {
      this.remove.run(userId);
      return null;
    }
    return { sessionId: row.sessionId };
  }

  forget(userId: number): void {
    this.remove.run(userId);
  }
}
