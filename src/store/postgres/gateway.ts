/**
 * The XMPP gateway's store (the gateway's GatewayStore port) on PostgreSQL
 * (migration 065). The outbox queues a stanza id once on any node: a second
 * enqueue of it, sent or not, adds nothing.
 */
import type { GatewayStatus, GatewayStore, OutboundStanza, RosterState } from '../../gateway/ports.js';
import type { PgDb } from './db.js';

export class PgGateway implements GatewayStore {
  constructor(private readonly db: PgDb) {}

  async contactUser(jid: string): Promise<number | null> {
    const r = await this.db.row<{ userId: number }>('SELECT user_id AS "userId" FROM gateway_contacts WHERE jid = $1', [
      jid,
    ]);
    return r?.userId ?? null;
  }

  async contactJid(userId: number): Promise<string | null> {
    const r = await this.db.row<{ jid: string }>('SELECT jid FROM gateway_contacts WHERE user_id = $1', [userId]);
    return r?.jid ?? null;
  }

  async addContact(jid: string, userId: number, now: number): Promise<void> {
    await this.db.pool.query(
      'INSERT INTO gateway_contacts (jid, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [jid, userId, now],
    );
  }

  contacts(): Promise<{ jid: string; userId: number }[]> {
    return this.db.rows('SELECT jid, user_id AS "userId" FROM gateway_contacts ORDER BY user_id');
  }

  async rosterState(contactUserId: number, localUserId: number): Promise<RosterState | null> {
    const r = await this.db.row<{ state: RosterState }>(
      'SELECT state FROM gateway_roster WHERE contact_user_id = $1 AND local_user_id = $2',
      [contactUserId, localUserId],
    );
    return r?.state ?? null;
  }

  async setRoster(contactUserId: number, localUserId: number, state: RosterState, now: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO gateway_roster (contact_user_id, local_user_id, state, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (contact_user_id, local_user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      [contactUserId, localUserId, state, now],
    );
  }

  async removeRoster(contactUserId: number, localUserId: number): Promise<void> {
    await this.db.pool.query('DELETE FROM gateway_roster WHERE contact_user_id = $1 AND local_user_id = $2', [
      contactUserId,
      localUserId,
    ]);
  }

  approvedRoster(): Promise<{ contactUserId: number; localUserId: number }[]> {
    return this.db.rows(
      `SELECT contact_user_id AS "contactUserId", local_user_id AS "localUserId" FROM gateway_roster
       WHERE state = 'approved' ORDER BY contact_user_id, local_user_id`,
    );
  }

  async sessionOf(contactUserId: number, localUserId: number): Promise<string | null> {
    const r = await this.db.row<{ sessionId: string }>(
      'SELECT session_id AS "sessionId" FROM gateway_sessions WHERE contact_user_id = $1 AND local_user_id = $2',
      [contactUserId, localUserId],
    );
    return r?.sessionId ?? null;
  }

  async setSession(contactUserId: number, localUserId: number, sessionId: string, now: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO gateway_sessions (contact_user_id, local_user_id, session_id, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (contact_user_id, local_user_id) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at`,
      [contactUserId, localUserId, sessionId, now],
    );
  }

  async enqueue(stanza: Omit<OutboundStanza, 'seq'>, now: number): Promise<boolean> {
    const { stanzaId, ...payload } = stanza;
    const added = await this.db.count(
      'INSERT INTO gateway_outbox (stanza_id, payload, created_at) VALUES ($1, $2, $3) ON CONFLICT (stanza_id) DO NOTHING',
      [stanzaId, JSON.stringify(payload), now],
    );
    return added > 0;
  }

  async unsent(limit: number): Promise<OutboundStanza[]> {
    const rows = await this.db.rows<{ id: number; stanza_id: string; payload: string }>(
      'SELECT id, stanza_id, payload FROM gateway_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({
      seq: r.id,
      stanzaId: r.stanza_id,
      ...(JSON.parse(r.payload) as Omit<OutboundStanza, 'seq' | 'stanzaId'>),
    }));
  }

  async markSent(seq: number, now: number): Promise<void> {
    await this.db.pool.query('UPDATE gateway_outbox SET sent_at = $1 WHERE id = $2', [now, seq]);
  }

  async counts(): Promise<{ queued: number; sent: number; contacts: number; approved: number }> {
    const r = await this.db.row<{ queued: number; sent: number; contacts: number; approved: number }>(
      `SELECT (SELECT count(*) FROM gateway_outbox WHERE sent_at IS NULL) AS queued,
              (SELECT count(*) FROM gateway_outbox WHERE sent_at IS NOT NULL) AS sent,
              (SELECT count(*) FROM gateway_contacts) AS contacts,
              (SELECT count(*) FROM gateway_roster WHERE state = 'approved') AS approved`,
    );
    return { queued: r?.queued ?? 0, sent: r?.sent ?? 0, contacts: r?.contacts ?? 0, approved: r?.approved ?? 0 };
  }

  async setStatus(s: GatewayStatus): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO gateway_status (node_id, domain, state, since, connects, last_error, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (node_id) DO UPDATE SET domain = excluded.domain, state = excluded.state, since = excluded.since,
         connects = excluded.connects, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      [s.nodeId, s.domain, s.state, s.since, s.connects, s.lastError, s.updatedAt],
    );
  }

  statuses(): Promise<GatewayStatus[]> {
    // COLLATE "C": byte order, as SQLite sorts text.
    return this.db.rows(
      `SELECT node_id AS "nodeId", domain, state, since, connects, last_error AS "lastError", updated_at AS "updatedAt"
       FROM gateway_status ORDER BY node_id COLLATE "C"`,
    );
  }
}
