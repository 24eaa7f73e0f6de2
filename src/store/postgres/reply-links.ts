/** The used reply links (notify's ReplyLinkUses port) on PostgreSQL: a nonce is claimed once, on any node. */
import type { ReplyLinkUses } from '../../notify/ports.js';
import type { PgDb } from './db.js';

export class PgReplyLinks implements ReplyLinkUses {
  constructor(private readonly db: PgDb) {}

  claim(nonce: string, now: number, expiresAt: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      await c.query('DELETE FROM reply_link_uses WHERE expires_at <= $1', [now]);
      const r = await c.query(
        'INSERT INTO reply_link_uses (nonce, used_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [nonce, now, expiresAt],
      );
      return r.rowCount === 1;
    });
  }
}
