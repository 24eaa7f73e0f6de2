/** Federation's storage port (src/federation/ports.ts) on SQLite. */
import type { FederationStore, OutboxEntry, Peer, RemoteMember } from '../../federation/ports.js';
import type { Db } from './db.js';

interface PeerRow {
  name: string;
  base_url: string;
  public_key: string;
  state: Peer['state'];
  added_at: number;
  last_ok_at: number | null;
  last_error: string | null;
}

const toPeer = (r: PeerRow): Peer => ({
  name: r.name,
  baseUrl: r.base_url,
  publicKey: r.public_key,
  state: r.state,
  addedAt: r.added_at,
  lastOkAt: r.last_ok_at,
  lastError: r.last_error,
});

export class SqliteFederationStore implements FederationStore {
  constructor(private readonly db: Db) {}

  async putPeer(p: { name: string; baseUrl: string; publicKey: string }, now: number): Promise<Peer> {
    this.db
      .prepare(
        `INSERT INTO federation_peers (name, base_url, public_key, state, added_at) VALUES (?, ?, ?, 'active', ?)
         ON CONFLICT(name) DO UPDATE SET base_url = excluded.base_url, public_key = excluded.public_key, state = 'active'`,
      )
      .run(p.name, p.baseUrl, p.publicKey, now);
    return (await this.peer(p.name)) as Peer;
  }

  async peer(name: string): Promise<Peer | null> {
    const r = this.db.prepare('SELECT * FROM federation_peers WHERE name = ?').get(name) as PeerRow | undefined;
    return r ? toPeer(r) : null;
  }

  async peers(): Promise<Peer[]> {
    return (this.db.prepare('SELECT * FROM federation_peers ORDER BY name').all() as PeerRow[]).map(toPeer);
  }

  async removePeer(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM federation_peers WHERE name = ?').run(name).changes === 1;
  }

  async peerResult(name: string, at: number, error: string | null): Promise<void> {
    if (error === null)
      this.db.prepare('UPDATE federation_peers SET last_ok_at = ?, last_error = NULL WHERE name = ?').run(at, name);
    else this.db.prepare('UPDATE federation_peers SET last_error = ? WHERE name = ?').run(error, name);
  }

  async enqueue(peer: string, events: { eventId: string; body: string }[], now: number): Promise<void> {
    const add = this.db.prepare(
      `INSERT INTO federation_outbox (peer, event_id, body, next_at, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(peer, event_id) DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const e of events) add.run(peer, e.eventId, e.body, now, now);
    })();
  }

  async head(peer: string, limit: number): Promise<OutboxEntry[]> {
    return this.db
      .prepare(
        `SELECT seq, peer, event_id AS eventId, body, attempts, next_at AS nextAt
         FROM federation_outbox WHERE peer = ? ORDER BY seq LIMIT ?`,
      )
      .all(peer, limit) as OutboxEntry[];
  }

  async dequeue(peer: string, seqs: number[]): Promise<void> {
    const del = this.db.prepare('DELETE FROM federation_outbox WHERE peer = ? AND seq = ?');
    this.db.transaction(() => {
      for (const s of seqs) del.run(peer, s);
    })();
  }

  async retryLater(peer: string, seqs: number[], nextAt: number): Promise<void> {
    const upd = this.db.prepare(
      'UPDATE federation_outbox SET attempts = attempts + 1, next_at = ? WHERE peer = ? AND seq = ?',
    );
    this.db.transaction(() => {
      for (const s of seqs) upd.run(nextAt, peer, s);
    })();
  }

  async queueLength(peer: string): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM federation_outbox WHERE peer = ?').get(peer) as { n: number }).n;
  }

  async peersWithQueue(): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT peer FROM federation_outbox').all() as { peer: string }[]).map(
      (r) => r.peer,
    );
  }

  async markReceived(peer: string, eventId: string, now: number): Promise<boolean> {
    return (
      this.db
        .prepare(
          'INSERT INTO federation_received (peer, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        )
        .run(peer, eventId, now).changes === 1
    );
  }

  async wasReceived(peer: string, eventId: string): Promise<boolean> {
    return (
      this.db.prepare('SELECT 1 FROM federation_received WHERE peer = ? AND event_id = ?').get(peer, eventId) !==
      undefined
    );
  }

  async claimNonce(peer: string, nonce: string, now: number, expiresAt: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM federation_nonces WHERE expires_at <= ?').run(now);
      return (
        this.db
          .prepare('INSERT INTO federation_nonces (peer, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(peer, nonce, expiresAt).changes === 1
      );
    })();
  }

  async remoteMember(address: string): Promise<RemoteMember | null> {
    return (
      (this.db
        .prepare('SELECT address, user_id AS userId, peer FROM federation_remote_members WHERE address = ?')
        .get(address) as RemoteMember | undefined) ?? null
    );
  }

  async remoteMemberByUser(userId: number): Promise<RemoteMember | null> {
    return (
      (this.db
        .prepare('SELECT address, user_id AS userId, peer FROM federation_remote_members WHERE user_id = ?')
        .get(userId) as RemoteMember | undefined) ?? null
    );
  }

  async remoteMembers(): Promise<RemoteMember[]> {
    return this.db
      .prepare('SELECT address, user_id AS userId, peer FROM federation_remote_members ORDER BY address')
      .all() as RemoteMember[];
  }

  async addRemoteMember(m: RemoteMember): Promise<void> {
    this.db
      .prepare('INSERT INTO federation_remote_members (address, user_id, peer) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(m.address, m.userId, m.peer);
  }

  async setAlias(sessionId: string, userId: number, address: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO federation_session_aliases (session_id, user_id, address) VALUES (?, ?, ?)
         ON CONFLICT(session_id, user_id) DO UPDATE SET address = excluded.address`,
      )
      .run(sessionId, userId, address);
  }

  async aliasOf(sessionId: string, userId: number): Promise<string | null> {
    const r = this.db
      .prepare('SELECT address FROM federation_session_aliases WHERE session_id = ? AND user_id = ?')
      .get(sessionId, userId) as { address: string } | undefined;
    return r?.address ?? null;
  }
}
