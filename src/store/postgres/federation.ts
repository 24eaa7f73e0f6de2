/** Federation's storage port (src/federation/ports.ts) on PostgreSQL. */
import type { FederationStore, OutboxEntry, Peer, RemoteMember } from '../../federation/ports.js';
import type { PgDb } from './db.js';

const PEER = `name, base_url AS "baseUrl", public_key AS "publicKey", state, added_at AS "addedAt",
  last_ok_at AS "lastOkAt", last_error AS "lastError"`;
const MEMBER = 'address, user_id AS "userId", peer';

export class PgFederation implements FederationStore {
  constructor(private readonly db: PgDb) {}

  async putPeer(p: { name: string; baseUrl: string; publicKey: string }, now: number): Promise<Peer> {
    return (await this.db.row<Peer>(
      `INSERT INTO federation_peers (name, base_url, public_key, state, added_at) VALUES ($1, $2, $3, 'active', $4)
       ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, public_key = excluded.public_key, state = 'active'
       RETURNING ${PEER}`,
      [p.name, p.baseUrl, p.publicKey, now],
    )) as Peer;
  }

  peer(name: string): Promise<Peer | null> {
    return this.db.row<Peer>(`SELECT ${PEER} FROM federation_peers WHERE name = $1`, [name]);
  }

  peers(): Promise<Peer[]> {
    return this.db.rows<Peer>(`SELECT ${PEER} FROM federation_peers ORDER BY name`);
  }

  async removePeer(name: string): Promise<boolean> {
    return (await this.db.count('DELETE FROM federation_peers WHERE name = $1', [name])) === 1;
  }

  async peerResult(name: string, at: number, error: string | null): Promise<void> {
    if (error === null)
      await this.db.count('UPDATE federation_peers SET last_ok_at = $1, last_error = NULL WHERE name = $2', [at, name]);
    else await this.db.count('UPDATE federation_peers SET last_error = $1 WHERE name = $2', [error, name]);
  }

  async enqueue(peer: string, events: { eventId: string; body: string }[], now: number): Promise<void> {
    if (events.length === 0) return;
    // One statement, rows in the given order (WITH ORDINALITY keeps it for the identity column).
    await this.db.count(
      `INSERT INTO federation_outbox (peer, event_id, body, next_at, created_at)
       SELECT $1, e.event_id, e.body, $4, $4 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(event_id, body, n)
       ORDER BY e.n
       ON CONFLICT (peer, event_id) DO NOTHING`,
      [peer, events.map((e) => e.eventId), events.map((e) => e.body), now],
    );
  }

  head(peer: string, limit: number): Promise<OutboxEntry[]> {
    return this.db.rows<OutboxEntry>(
      `SELECT seq, peer, event_id AS "eventId", body, attempts, next_at AS "nextAt"
       FROM federation_outbox WHERE peer = $1 ORDER BY seq LIMIT $2`,
      [peer, limit],
    );
  }

  async dequeue(peer: string, seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.count('DELETE FROM federation_outbox WHERE peer = $1 AND seq = ANY($2::bigint[])', [peer, seqs]);
  }

  async retryLater(peer: string, seqs: number[], nextAt: number): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.count(
      'UPDATE federation_outbox SET attempts = attempts + 1, next_at = $1 WHERE peer = $2 AND seq = ANY($3::bigint[])',
      [nextAt, peer, seqs],
    );
  }

  async queueLength(peer: string): Promise<number> {
    const r = await this.db.row<{ n: number | string }>(
      'SELECT COUNT(*)::int AS n FROM federation_outbox WHERE peer = $1',
      [peer],
    );
    return Number(r?.n ?? 0);
  }

  async peersWithQueue(): Promise<string[]> {
    return (await this.db.rows<{ peer: string }>('SELECT DISTINCT peer FROM federation_outbox ORDER BY peer')).map(
      (r) => r.peer,
    );
  }

  async markReceived(peer: string, eventId: string, now: number): Promise<boolean> {
    return (
      (await this.db.count(
        'INSERT INTO federation_received (peer, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [peer, eventId, now],
      )) === 1
    );
  }

  async wasReceived(peer: string, eventId: string): Promise<boolean> {
    return (
      (await this.db.row('SELECT 1 FROM federation_received WHERE peer = $1 AND event_id = $2', [peer, eventId])) !==
      null
    );
  }

  claimNonce(peer: string, nonce: string, now: number, expiresAt: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      await this.db.count('DELETE FROM federation_nonces WHERE expires_at <= $1', [now], c);
      return (
        (await this.db.count(
          'INSERT INTO federation_nonces (peer, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [peer, nonce, expiresAt],
          c,
        )) === 1
      );
    });
  }

  remoteMember(address: string): Promise<RemoteMember | null> {
    return this.db.row<RemoteMember>(`SELECT ${MEMBER} FROM federation_remote_members WHERE address = $1`, [address]);
  }

  remoteMemberByUser(userId: number): Promise<RemoteMember | null> {
    return this.db.row<RemoteMember>(`SELECT ${MEMBER} FROM federation_remote_members WHERE user_id = $1`, [userId]);
  }

  remoteMembers(): Promise<RemoteMember[]> {
    return this.db.rows<RemoteMember>(`SELECT ${MEMBER} FROM federation_remote_members ORDER BY address`);
  }

  async addRemoteMember(m: RemoteMember): Promise<void> {
    await this.db.count(
      'INSERT INTO federation_remote_members (address, user_id, peer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [m.address, m.userId, m.peer],
    );
  }

  async setAlias(sessionId: string, userId: number, address: string): Promise<void> {
    await this.db.count(
      `INSERT INTO federation_session_aliases (session_id, user_id, address) VALUES ($1, $2, $3)
       ON CONFLICT (session_id, user_id) DO UPDATE SET address = excluded.address`,
      [sessionId, userId, address],
    );
  }

  async aliasOf(sessionId: string, userId: number): Promise<string | null> {
    const r = await this.db.row<{ address: string }>(
      'SELECT address FROM federation_session_aliases WHERE session_id = $1 AND user_id = $2',
      [sessionId, userId],
    );
    return r?.address ?? null;
  }
}
