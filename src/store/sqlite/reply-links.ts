/** The used reply links (notify's ReplyLinkUses) on SQLite. */
import type { Db } from './db.js';

/** Synchronous; offered as ReplyLinkUses through `promised` (index.ts). */
export class SqliteReplyLinks {
  constructor(private readonly db: Db) {}

  claim(nonce: string, now: number, expiresAt: number): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM reply_link_uses WHERE expires_at <= ?').run(now);
      const r = this.db
        .prepare('INSERT INTO reply_link_uses (nonce, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
        .run(nonce, now, expiresAt);
      return r.changes === 1;
    })();
  }
}
