/**
 * The presence server's storage (PresenceStore) on SQLite: chosen presence,
 * links, subscriptions, IM sessions and members, the message cache's reads
 * and delivery states, session objects and node leases. The message cache's
 * durable writes go through the group commit (message-committer.ts) on its
 * own connection; the node feed is node-feed.ts.
 */
import type {
  ChosenState,
  DeliveryState,
  ImSession,
  LinkKind,
  MemberState,
  SessionObject,
  StoredMessage,
} from '../../presence/types.js';
import type { Membership, SubscriptionState } from '../../presence/ports.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface MessageRow {
  id: number;
  session_id: string;
  from_user_id: number;
  kind: 'text' | 'voice';
  text: string | null;
  audio_id: string | null;
  audio_url: string | null;
  created_at: number;
}

export function toMessage(r: MessageRow): StoredMessage {
  return {
    id: String(r.id),
    sessionId: r.session_id,
    fromUserId: r.from_user_id,
    kind: r.kind,
    text: r.text,
    audioId: r.audio_id,
    audioUrl: r.audio_url,
    createdAt: r.created_at,
  };
}

interface ObjectRow {
  id: string;
  user_id: number;
  client: string;
  csrf: string;
  node_id: string;
  cursor: number;
  created_at: number;
  last_seen_at: number;
}

const toObject = (r: ObjectRow): SessionObject => ({
  id: r.id,
  userId: r.user_id,
  client: r.client,
  csrf: r.csrf,
  nodeId: r.node_id,
  cursor: String(r.cursor),
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
});

export const MESSAGE_COLS = 'm.id, m.session_id, m.from_user_id, m.kind, m.text, m.audio_id, m.audio_url, m.created_at';

/** Synchronous; offered as a PresenceStore through `promised` (index.ts). */
export class SqlitePresence {
  private readonly db: Db;
  private readonly stmt;

  constructor(db: Db) {
    this.db = db;
    this.stmt = {
      status: this.q('SELECT state, status_text AS statusText FROM presence_status WHERE user_id = ?'),
      setStatus: this.q(
        `INSERT INTO presence_status (user_id, state, status_text, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET state = excluded.state, status_text = excluded.status_text, updated_at = excluded.updated_at`,
      ),
      linkKinds: this.q('SELECT kind FROM links WHERE user_id = ?'),
      insertLink: this.q('INSERT INTO links (id, user_id, kind, node_id, opened_at) VALUES (?, ?, ?, ?, ?)'),
      deleteLink: this.q('DELETE FROM links WHERE id = ?'),
      member: this.q('SELECT state FROM session_members WHERE session_id = ? AND user_id = ?'),
      recipients: this.q(
        "SELECT user_id AS userId FROM session_members WHERE session_id = ? AND user_id <> ? AND state IN ('invited', 'joined')",
      ),
    };
  }

  private readonly statements = new Map<string, Statement>();

  /** A prepared statement, prepared once per SQL text. */
  private q(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }

  // ---- presence -----------------------------------------------------------------

  chosen(userId: number): { state: ChosenState; statusText: string | null } | null {
    return (this.stmt.status.get(userId) as { state: ChosenState; statusText: string | null } | undefined) ?? null;
  }

  setChosen(userId: number, state: ChosenState, statusText: string | null, now: number): void {
    this.stmt.setStatus.run(userId, state, statusText, now);
  }

  linkKinds(userId: number): LinkKind[] {
    return (this.stmt.linkKinds.all(userId) as { kind: LinkKind }[]).map((r) => r.kind);
  }

  linkKindsOf(userIds: number[]): { userId: number; kind: LinkKind }[] {
    if (userIds.length === 0) return [];
    return this.q('SELECT user_id AS userId, kind FROM links WHERE user_id IN (SELECT value FROM json_each(?))').all(
      JSON.stringify(userIds),
    ) as { userId: number; kind: LinkKind }[];
  }

  insertLink(id: string, userId: number, kind: LinkKind, nodeId: string, now: number): void {
    this.stmt.insertLink.run(id, userId, kind, nodeId, now);
  }

  deleteLink(id: string): void {
    this.stmt.deleteLink.run(id);
  }

  /** Drops the link rows of nodes (a restarted node's own, a dead node's); returns the users affected. */
  deleteLinksOfNode(nodeId: string): number[] {
    const users = this.q('SELECT DISTINCT user_id AS u FROM links WHERE node_id = ?').all(nodeId) as {
      u: number;
    }[];
    this.q('DELETE FROM links WHERE node_id = ?').run(nodeId);
    return users.map((r) => r.u);
  }

  // ---- device calls (a presence input beside the links) ---------------------------

  /** Sets which users `device` is in a call for, as heard by `nodeId`; returns the users whose rows changed. */
  setDeviceCalls(device: string, nodeId: string, userIds: number[], now: number): number[] {
    return this.transaction(() => {
      const before = (
        this.q('SELECT user_id AS u FROM device_calls WHERE node_id = ? AND device = ?').all(nodeId, device) as {
          u: number;
        }[]
      ).map((r) => r.u);
      const keep = new Set(userIds);
      const drop = this.q('DELETE FROM device_calls WHERE node_id = ? AND device = ? AND user_id = ?');
      for (const u of before) if (!keep.has(u)) drop.run(nodeId, device, u);
      const add = this.q('INSERT OR IGNORE INTO device_calls (user_id, device, node_id, since) VALUES (?, ?, ?, ?)');
      const had = new Set(before);
      for (const u of keep) if (!had.has(u)) add.run(u, device, nodeId, now);
      return [...before.filter((u) => !keep.has(u)), ...[...keep].filter((u) => !had.has(u))];
    });
  }

  /** The devices a user is in a call on (heard by any node). */
  deviceCallsOf(userId: number): string[] {
    return (
      this.q('SELECT DISTINCT device AS d FROM device_calls WHERE user_id = ? ORDER BY device').all(userId) as {
        d: string;
      }[]
    ).map((r) => r.d);
  }

  /** Drops a node's device-call rows (a restarted node's own, a dead node's); returns the users affected. */
  deleteDeviceCallsOfNode(nodeId: string): number[] {
    const users = this.q('SELECT DISTINCT user_id AS u FROM device_calls WHERE node_id = ?').all(nodeId) as {
      u: number;
    }[];
    this.q('DELETE FROM device_calls WHERE node_id = ?').run(nodeId);
    return users.map((r) => r.u);
  }

  // ---- subscriptions ---------------------------------------------------------------

  subscription(subscriberId: number, targetId: number): SubscriptionState | null {
    const r = this.db
      .prepare('SELECT state FROM subscriptions WHERE subscriber_id = ? AND target_id = ?')
      .get(subscriberId, targetId) as { state: SubscriptionState } | undefined;
    return r?.state ?? null;
  }

  upsertSubscription(subscriberId: number, targetId: number, state: SubscriptionState, now: number): void {
    this.db
      .prepare(
        `INSERT INTO subscriptions (subscriber_id, target_id, state, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(subscriber_id, target_id) DO UPDATE SET state = excluded.state`,
      )
      .run(subscriberId, targetId, state, now);
  }

  approveMutual(userId: number, otherId: number, now: number): void {
    this.transaction(() => {
      this.upsertSubscription(otherId, userId, 'approved', now);
      this.upsertSubscription(userId, otherId, 'approved', now);
    });
  }

  deleteMutual(userId: number, otherId: number): void {
    this.transaction(() => {
      this.deleteSubscription(userId, otherId);
      this.deleteSubscription(otherId, userId);
    });
  }

  deleteSubscription(subscriberId: number, targetId: number): boolean {
    return (
      this.q('DELETE FROM subscriptions WHERE subscriber_id = ? AND target_id = ?').run(subscriberId, targetId)
        .changes > 0
    );
  }

  /** Whom the user subscribes to (their buddy list). */
  subscriptionsOf(userId: number): { targetId: number; state: SubscriptionState }[] {
    return this.db
      .prepare(
        'SELECT target_id AS targetId, state FROM subscriptions WHERE subscriber_id = ? ORDER BY created_at, target_id',
      )
      .all(userId) as { targetId: number; state: SubscriptionState }[];
  }

  /** Who sees the user's presence. */
  subscribersOf(userId: number): number[] {
    return (
      this.db
        .prepare("SELECT subscriber_id AS s FROM subscriptions WHERE target_id = ? AND state = 'approved'")
        .all(userId) as { s: number }[]
    ).map((r) => r.s);
  }

  requestsTo(userId: number): { fromUserId: number; createdAt: number }[] {
    return this.db
      .prepare(
        "SELECT subscriber_id AS fromUserId, created_at AS createdAt FROM subscriptions WHERE target_id = ? AND state = 'requested' ORDER BY created_at",
      )
      .all(userId) as { fromUserId: number; createdAt: number }[];
  }

  // ---- sessions ------------------------------------------------------------------

  insertSession(id: string, ownerId: number, inviteeIds: number[], now: number): void {
    this.transaction(() => {
      this.q('INSERT INTO im_sessions (id, owner_id, created_at) VALUES (?, ?, ?)').run(id, ownerId, now);
      const add = this.q(
        'INSERT INTO session_members (session_id, user_id, state, invited_by, updated_at) VALUES (?, ?, ?, ?, ?)',
      );
      add.run(id, ownerId, 'joined', null, now);
      for (const u of inviteeIds) add.run(id, u, 'invited', ownerId, now);
    });
  }

  session(id: string): ImSession | null {
    const s = this.db
      .prepare('SELECT id, owner_id AS ownerId, created_at AS createdAt FROM im_sessions WHERE id = ?')
      .get(id) as Omit<ImSession, 'members'> | undefined;
    if (!s) return null;
    const members = this.db
      .prepare('SELECT user_id AS userId, state FROM session_members WHERE session_id = ? ORDER BY rowid')
      .all(id) as ImSession['members'];
    return { ...s, members };
  }

  memberState(sessionId: string, userId: number): MemberState | null {
    return (this.stmt.member.get(sessionId, userId) as { state: MemberState } | undefined)?.state ?? null;
  }

  /**
   * Sets a member's state. Leaving or declining fixes what they may read (the session's last message now);
   * being invited or joining again lifts it.
   */
  setMember(sessionId: string, userId: number, state: MemberState, invitedBy: number | null, now: number): void {
    const until =
      state === 'left' || state === 'declined'
        ? (
            this.q('SELECT COALESCE(MAX(id), 0) AS n FROM messages WHERE session_id = ?').get(sessionId) as {
              n: number;
            }
          ).n
        : null;
    this.db
      .prepare(
        `INSERT INTO session_members (session_id, user_id, state, invited_by, updated_at, read_until) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(session_id, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
           invited_by = COALESCE(excluded.invited_by, session_members.invited_by), read_until = excluded.read_until`,
      )
      .run(sessionId, userId, state, invitedBy, now, until);
  }

  /** The last message id a member may read, or null when they may read all (invited or joined). */
  readUntil(sessionId: string, userId: number): number | null {
    const r = this.q('SELECT read_until AS n FROM session_members WHERE session_id = ? AND user_id = ?').get(
      sessionId,
      userId,
    ) as { n: number | null } | undefined;
    return r?.n ?? null;
  }

  /** Every member of a session and their state, in one read (the hot path of a post). */
  membership(sessionId: string): Membership | null {
    const rows = this.q(
      `SELECT s.member_version AS version, m.user_id AS userId, m.state FROM im_sessions s
       LEFT JOIN session_members m ON m.session_id = s.id WHERE s.id = ?`,
    ).all(sessionId) as { version: number; userId: number | null; state: MemberState | null }[];
    const first = rows[0];
    if (!first) return null;
    const members: Membership['members'] = [];
    for (const r of rows) if (r.userId !== null && r.state !== null) members.push({ userId: r.userId, state: r.state });
    return { version: first.version, members };
  }

  /** Who receives a message: invited and joined members except the sender. */
  recipients(sessionId: string, senderId: number): number[] {
    return (this.stmt.recipients.all(sessionId, senderId) as { userId: number }[]).map((r) => r.userId);
  }

  sessionIdsOf(userId: number, states: MemberState[]): string[] {
    const marks = states.map(() => '?').join(', ');
    return (
      this.db
        .prepare(
          `SELECT m.session_id AS id FROM session_members m JOIN im_sessions s ON s.id = m.session_id
           WHERE m.user_id = ? AND m.state IN (${marks}) ORDER BY s.created_at DESC, s.id`,
        )
        .all(userId, ...states) as { id: string }[]
    ).map((r) => r.id);
  }

  // ---- messages and deliveries -------------------------------------------------------

  message(id: number): StoredMessage | null {
    const r = this.q(`SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id = ?`).get(id) as MessageRow | undefined;
    return r ? toMessage(r) : null;
  }

  /** A session's messages after `afterId`, oldest first, at most `limit`. */
  history(sessionId: string, afterId: number, limit: number, untilId = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT ${MESSAGE_COLS} FROM messages m WHERE m.session_id = ? AND m.id > ? AND m.id <= ? ORDER BY m.id LIMIT ?`,
        )
        .all(sessionId, afterId, untilId, limit) as MessageRow[]
    ).map((r) => toMessage(r));
  }

  /** The last `limit` messages of a session up to `untilId`, oldest first. */
  recent(sessionId: string, limit: number, untilId = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM (SELECT ${MESSAGE_COLS} FROM messages m WHERE m.session_id = ? AND m.id <= ? ORDER BY m.id DESC LIMIT ?) ORDER BY id`,
        )
        .all(sessionId, untilId, limit) as MessageRow[]
    ).map((r) => toMessage(r));
  }

  /**
   * Deliveries still pending (no link took the message) of messages stored since `since`, oldest first:
   * each is the intent of an alert, written in the same transaction as its message.
   */
  pendingDeliveries(since: number, limit: number): { recipientId: number; message: StoredMessage }[] {
    return (
      this.db
        .prepare(
          `SELECT d.recipient_id AS recipientId, ${MESSAGE_COLS} FROM deliveries d JOIN messages m ON m.id = d.message_id
           WHERE d.state = 'pending' AND m.created_at >= ? ORDER BY m.id LIMIT ?`,
        )
        .all(since, limit) as (MessageRow & { recipientId: number })[]
    ).map((r) => ({ recipientId: r.recipientId, message: toMessage(r) }));
  }

  /** Messages to a recipient in the given delivery states, oldest first. */
  messagesFor(
    userId: number,
    states: DeliveryState[],
    opts: { sessionId?: string; afterId?: number; limit?: number } = {},
  ): StoredMessage[] {
    const marks = states.map(() => '?').join(', ');
    const args: (string | number)[] = [userId, ...states, opts.afterId ?? 0];
    let sql = `SELECT ${MESSAGE_COLS} FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.recipient_id = ? AND d.state IN (${marks}) AND d.message_id > ?`;
    if (opts.sessionId !== undefined) {
      sql += ' AND m.session_id = ?';
      args.push(opts.sessionId);
    }
    sql += ' ORDER BY m.id LIMIT ?';
    args.push(opts.limit ?? 1000);
    return (this.q(sql).all(...args) as MessageRow[]).map((r) => toMessage(r));
  }

  deliveryStates(messageId: number): { recipientId: number; state: DeliveryState }[] {
    return this.db
      .prepare('SELECT recipient_id AS recipientId, state FROM deliveries WHERE message_id = ? ORDER BY recipient_id')
      .all(messageId) as { recipientId: number; state: DeliveryState }[];
  }

  /** Moves deliveries forward (pending < notified < delivered < read); returns the ids that changed. */
  advanceDeliveries(userId: number, messageIds: number[], to: DeliveryState, now: number): number[] {
    const from: Record<DeliveryState, DeliveryState[]> = {
      pending: [],
      notified: ['pending'],
      delivered: ['pending', 'notified'],
      read: ['pending', 'notified', 'delivered'],
    };
    const allowed = from[to];
    if (allowed.length === 0 || messageIds.length === 0) return [];
    const marks = allowed.map(() => '?').join(', ');
    const stmt = this.q(
      `UPDATE deliveries SET state = ?, updated_at = ? WHERE recipient_id = ? AND message_id = ? AND state IN (${marks})`,
    );
    const changed: number[] = [];
    this.transaction(() => {
      for (const id of messageIds) if (stmt.run(to, now, userId, id, ...allowed).changes > 0) changed.push(id);
    });
    return changed;
  }

  // ---- session objects ----------------------------------------------------------------

  insertObject(o: SessionObject, tokenHash: string): void {
    this.db
      .prepare(
        `INSERT INTO session_objects (id, token_hash, user_id, client, csrf, node_id, cursor, created_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(o.id, tokenHash, o.userId, o.client, o.csrf, o.nodeId, Number(o.cursor), o.createdAt, o.lastSeenAt);
  }

  objectByTokenHash(hash: string): SessionObject | null {
    const r = this.db
      .prepare(
        'SELECT id, user_id, client, csrf, node_id, cursor, created_at, last_seen_at FROM session_objects WHERE token_hash = ?',
      )
      .get(hash) as ObjectRow | undefined;
    return r ? toObject(r) : null;
  }

  objectById(id: string): SessionObject | null {
    const r = this.db
      .prepare(
        'SELECT id, user_id, client, csrf, node_id, cursor, created_at, last_seen_at FROM session_objects WHERE id = ?',
      )
      .get(id) as ObjectRow | undefined;
    return r ? toObject(r) : null;
  }

  objectNodes(ids: readonly string[]): Map<string, string> {
    const rows = this.q('SELECT id, node_id FROM session_objects WHERE id IN (SELECT value FROM json_each(?))').all(
      JSON.stringify(ids),
    ) as { id: string; node_id: string }[];
    return new Map(rows.map((r) => [r.id, r.node_id]));
  }

  touchObject(id: string, now: number): void {
    this.q('UPDATE session_objects SET last_seen_at = ? WHERE id = ?').run(now, id);
  }

  setCursor(id: string, cursor: number): void {
    this.q('UPDATE session_objects SET cursor = MAX(cursor, ?) WHERE id = ?').run(cursor, id);
  }

  /**
   * The credentials version (008-credentials-version.sql) goes up in the same
   * transaction as a session object's end or move, so that a node serving
   * tokens from memory sees the change on its next request.
   */
  private changedCredentials<T>(change: () => T, changed: (r: T) => boolean): T {
    return this.db.transaction(() => {
      const r = change();
      if (changed(r)) this.q('UPDATE credentials_version SET version = version + 1 WHERE id = 1').run();
      return r;
    })();
  }

  /** Moves an object to `toNode` only if it is still held by `fromNode` (two takers cannot both win). */
  takeOver(id: string, fromNode: string, toNode: string): boolean {
    return this.changedCredentials(
      () =>
        this.q('UPDATE session_objects SET node_id = ? WHERE id = ? AND node_id = ?').run(toNode, id, fromNode)
          .changes > 0,
      (moved) => moved,
    );
  }

  deleteObject(id: string): boolean {
    return this.changedCredentials(
      () => this.q('DELETE FROM session_objects WHERE id = ?').run(id).changes > 0,
      (ended) => ended,
    );
  }

  deleteIdleObjects(seenBefore: number): number {
    return this.changedCredentials(
      () => this.q('DELETE FROM session_objects WHERE last_seen_at < ?').run(seenBefore).changes,
      (n) => n > 0,
    );
  }

  objectsOf(userId: number): SessionObject[] {
    return (
      this.db
        .prepare(
          'SELECT id, user_id, client, csrf, node_id, cursor, created_at, last_seen_at FROM session_objects WHERE user_id = ? ORDER BY created_at',
        )
        .all(userId) as ObjectRow[]
    ).map(toObject);
  }

  /** A secret shared by every node: the first node to ask stores its candidate. */
  sharedSecret(name: string, candidate: string): string {
    this.q('INSERT OR IGNORE INTO web_secrets (name, value) VALUES (?, ?)').run(name, candidate);
    return (this.q('SELECT value FROM web_secrets WHERE name = ?').get(name) as { value: string }).value;
  }

  // ---- node leases ---------------------------------------------------------------------

  renewLease(nodeId: string, publicUrl: string, until: number, now: number): void {
    this.db
      .prepare(
        `INSERT INTO node_leases (node_id, public_url, lease_until, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(node_id) DO UPDATE SET public_url = excluded.public_url, lease_until = excluded.lease_until,
           updated_at = excluded.updated_at`,
      )
      .run(nodeId, publicUrl, until, now);
  }

  lease(nodeId: string): { publicUrl: string; leaseUntil: number } | null {
    return (
      (this.db
        .prepare('SELECT public_url AS publicUrl, lease_until AS leaseUntil FROM node_leases WHERE node_id = ?')
        .get(nodeId) as { publicUrl: string; leaseUntil: number } | undefined) ?? null
    );
  }

  expiredNodes(now: number, except: string): string[] {
    return (
      this.db
        .prepare('SELECT node_id AS n FROM node_leases WHERE lease_until < ? AND node_id <> ?')
        .all(now, except) as {
        n: string;
      }[]
    ).map((r) => r.n);
  }

  releaseLease(nodeId: string): void {
    this.q('UPDATE node_leases SET lease_until = 0 WHERE node_id = ?').run(nodeId);
  }

  hasLinksElsewhere(userId: number, nodeId: string): boolean {
    return this.q('SELECT 1 FROM links WHERE user_id = ? AND node_id <> ? LIMIT 1').get(userId, nodeId) !== undefined;
  }

  maxMessageId(): number {
    return (this.q('SELECT COALESCE(MAX(id), 0) AS m FROM messages').get() as { m: number }).m;
  }
}
