/** The XMPP gateway's store (the gateway's GatewayStore port) on SQLite (migration 065). */
import type { GatewayStatus, OutboundStanza, RosterState } from '../../gateway/ports.js';
import type { Db } from './db.js';

interface StatusRow {
  node_id: string;
  domain: string;
  state: string;
  since: number;
  connects: number;
  last_error: string | null;
  updated_at: number;
}

/** Synchronous; offered as GatewayStore through `promised` (index.ts). */
export class SqliteGateway {
  constructor(private readonly db: Db) {}

  contactUser(jid: string): number | null {
    const r = this.db.prepare('SELECT user_id FROM gateway_contacts WHERE jid = ?').get(jid) as
      | { user_id: number }
      | undefined;
    return r?.user_id ?? null;
  }

  contactJid(userId: number): string | null {
    const r = this.db.prepare('SELECT jid FROM gateway_contacts WHERE user_id = ?').get(userId) as
      | { jid: string }
      | undefined;
    return r?.jid ?? null;
  }

  addContact(jid: string, userId: number, now: number): void {
    this.db
      .prepare('INSERT INTO gateway_contacts (jid, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(jid, userId, now);
  }

  contacts(): { jid: string; userId: number }[] {
    return (
      this.db.prepare('SELECT jid, user_id FROM gateway_contacts ORDER BY user_id').all() as {
        jid: string;
        user_id: number;
      }[]
    ).map((r) => ({ jid: r.jid, userId: r.user_id }));
  }

  rosterState(contactUserId: number, localUserId: number): RosterState | null {
    const r = this.db
      .prepare('SELECT state FROM gateway_roster WHERE contact_user_id = ? AND local_user_id = ?')
      .get(contactUserId, localUserId) as { state: RosterState } | undefined;
    return r?.state ?? null;
  }

  setRoster(contactUserId: number, localUserId: number, state: RosterState, now: number): void {
    this.db
      .prepare(
        `INSERT INTO gateway_roster (contact_user_id, local_user_id, state, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (contact_user_id, local_user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      )
      .run(contactUserId, localUserId, state, now);
  }

  removeRoster(contactUserId: number, localUserId: number): void {
    this.db
      .prepare('DELETE FROM gateway_roster WHERE contact_user_id = ? AND local_user_id = ?')
      .run(contactUserId, localUserId);
  }

  approvedRoster(): { contactUserId: number; localUserId: number }[] {
    return (
      this.db
        .prepare(
          "SELECT contact_user_id, local_user_id FROM gateway_roster WHERE state = 'approved' ORDER BY contact_user_id, local_user_id",
        )
        .all() as {
        contact_user_id: number;
        local_user_id: number;
      }[]
    ).map((r) => ({ contactUserId: r.contact_user_id, localUserId: r.local_user_id }));
  }

  sessionOf(contactUserId: number, localUserId: number): string | null {
    const r = this.db
      .prepare('SELECT session_id FROM gateway_sessions WHERE contact_user_id = ? AND local_user_id = ?')
      .get(contactUserId, localUserId) as { session_id: string } | undefined;
    return r?.session_id ?? null;
  }

  setSession(contactUserId: number, localUserId: number, sessionId: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO gateway_sessions (contact_user_id, local_user_id, session_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (contact_user_id, local_user_id) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at`,
      )
      .run(contactUserId, localUserId, sessionId, now);
  }

  enqueue(stanza: Omit<OutboundStanza, 'seq'>, now: number): boolean {
    const { stanzaId, ...payload } = stanza;
    const r = this.db
      .prepare(
        'INSERT INTO gateway_outbox (stanza_id, payload, created_at) VALUES (?, ?, ?) ON CONFLICT (stanza_id) DO NOTHING',
      )
      .run(stanzaId, JSON.stringify(payload), now);
    return r.changes > 0;
  }

  unsent(limit: number): OutboundStanza[] {
    const rows = this.db
      .prepare('SELECT id, stanza_id, payload FROM gateway_outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?')
      .all(limit) as { id: number; stanza_id: string; payload: string }[];
    return rows.map((r) => ({
      seq: r.id,
      stanzaId: r.stanza_id,
      ...(JSON.parse(r.payload) as Omit<OutboundStanza, 'seq' | 'stanzaId'>),
    }));
  }

  markSent(seq: number, now: number): void {
    this.db.prepare('UPDATE gateway_outbox SET sent_at = ? WHERE id = ?').run(now, seq);
  }

  counts(): { queued: number; sent: number; contacts: number; approved: number } {
    const r = this.db
      .prepare(
        `SELECT (SELECT count(*) FROM gateway_outbox WHERE sent_at IS NULL) AS queued,
                (SELECT count(*) FROM gateway_outbox WHERE sent_at IS NOT NULL) AS sent,
                (SELECT count(*) FROM gateway_contacts) AS contacts,
                (SELECT count(*) FROM gateway_roster WHERE state = 'approved') AS approved`,
      )
      .get() as { queued: number; sent: number; contacts: number; approved: number };
    return { ...r };
  }

  setStatus(s: GatewayStatus): void {
    this.db
      .prepare(
        `INSERT INTO gateway_status (node_id, domain, state, since, connects, last_error, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET domain = excluded.domain, state = excluded.state, since = excluded.since,
           connects = excluded.connects, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      )
      .run(s.nodeId, s.domain, s.state, s.since, s.connects, s.lastError, s.updatedAt);
  }

  statuses(): GatewayStatus[] {
    return (this.db.prepare('SELECT * FROM gateway_status ORDER BY node_id').all() as StatusRow[]).map((r) => ({
      nodeId: r.node_id,
      domain: r.domain,
      state: r.state,
      since: r.since,
      connects: r.connects,
      lastError: r.last_error,
      updatedAt: r.updated_at,
    }));
  }
}
