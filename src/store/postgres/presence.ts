/**
 * The presence server's storage (PresenceStore) on PostgreSQL: chosen
 * presence, links and desk-phone calls per node, subscriptions, IM sessions
 * and members, the message cache's reads and delivery states, session
 * objects (whose node_id is the session's owner: `takeOver` moves it with one
 * conditional UPDATE, so of two nodes one wins), node leases and shared
 * secrets. The cache's writes are message-committer.ts; the feed node-feed.ts.
 */
import type { Membership, PresenceStore, SubscriptionState } from '../../presence/ports.js';
import type {
  ChosenState,
  DeliveryState,
  ImSession,
  LinkKind,
  MemberState,
  SessionObject,
  StoredMessage,
} from '../../presence/types.js';
import type { PgDb } from './db.js';

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

export const MESSAGE_COLS = 'm.id, m.session_id, m.from_user_id, m.kind, m.text, m.audio_id, m.audio_url, m.created_at';

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

const OBJECT_COLS = 'id, user_id, client, csrf, node_id, cursor, created_at, last_seen_at';

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

/** What a delivery may move forward from (pending < notified < delivered < read). */
const ADVANCE_FROM: Record<DeliveryState, DeliveryState[]> = {
  pending: [],
  notified: ['pending'],
  delivered: ['pending', 'notified'],
  read: ['pending', 'notified', 'delivered'],
};

export class PgPresence implements PresenceStore {
  constructor(private readonly db: PgDb) {}

  // ---- chosen presence and links ------------------------------------------------

  chosen(userId: number): Promise<{ state: ChosenState; statusText: string | null } | null> {
    return this.db.row('SELECT state, status_text AS "statusText" FROM presence_status WHERE user_id = $1', [userId]);
  }

  async setChosen(userId: number, state: ChosenState, statusText: string | null, now: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO presence_status (user_id, state, status_text, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_text = excluded.status_text,
         updated_at = excluded.updated_at`,
      [userId, state, statusText, now],
    );
  }

  async linkKinds(userId: number): Promise<LinkKind[]> {
    return (await this.db.rows<{ kind: LinkKind }>('SELECT kind FROM links WHERE user_id = $1', [userId])).map(
      (r) => r.kind,
    );
  }

  async linkKindsOf(userIds: number[]): Promise<{ userId: number; kind: LinkKind }[]> {
    if (userIds.length === 0) return [];
    return await this.db.rows<{ userId: number; kind: LinkKind }>(
      'SELECT user_id AS "userId", kind FROM links WHERE user_id = ANY($1::int[])',
      [userIds],
    );
  }

  async insertLink(id: string, userId: number, kind: LinkKind, nodeId: string, now: number): Promise<void> {
    await this.db.pool.query('INSERT INTO links (id, user_id, kind, node_id, opened_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      userId,
      kind,
      nodeId,
      now,
    ]);
  }

  async deleteLink(id: string): Promise<void> {
    await this.db.pool.query('DELETE FROM links WHERE id = $1', [id]);
  }

  async deleteLinksOfNode(nodeId: string): Promise<number[]> {
    const rows = await this.db.rows<{ u: number }>('DELETE FROM links WHERE node_id = $1 RETURNING user_id AS u', [
      nodeId,
    ]);
    return [...new Set(rows.map((r) => r.u))];
  }

  async hasLinksElsewhere(userId: number, nodeId: string): Promise<boolean> {
    return (
      (await this.db.row('SELECT 1 FROM links WHERE user_id = $1 AND node_id <> $2 LIMIT 1', [userId, nodeId])) !== null
    );
  }

  // ---- desk-phone calls ------------------------------------------------------------

  setDeviceCalls(device: string, nodeId: string, userIds: number[], now: number): Promise<number[]> {
    return this.db.tx(async (c) => {
      const before = (
        await this.db.rows<{ u: number }>(
          'SELECT user_id AS u FROM device_calls WHERE node_id = $1 AND device = $2 FOR UPDATE',
          [nodeId, device],
          c,
        )
      ).map((r) => r.u);
      const keep = new Set(userIds);
      const had = new Set(before);
      const dropped = before.filter((u) => !keep.has(u));
      const added = [...keep].filter((u) => !had.has(u));
      if (dropped.length > 0)
        await c.query('DELETE FROM device_calls WHERE node_id = $1 AND device = $2 AND user_id = ANY($3::int[])', [
          nodeId,
          device,
          dropped,
        ]);
      if (added.length > 0)
        await c.query(
          `INSERT INTO device_calls (user_id, device, node_id, since) SELECT u, $2, $3, $4 FROM unnest($1::int[]) AS u
           ON CONFLICT DO NOTHING`,
          [added, device, nodeId, now],
        );
      return [...dropped, ...added];
    });
  }

  async deviceCallsOf(userId: number): Promise<string[]> {
    return (
      await this.db.rows<{ d: string }>(
        'SELECT DISTINCT device COLLATE "C" AS d FROM device_calls WHERE user_id = $1 ORDER BY 1',
        [userId],
      )
    ).map((r) => r.d);
  }

  async deleteDeviceCallsOfNode(nodeId: string): Promise<number[]> {
    const rows = await this.db.rows<{ u: number }>(
      'DELETE FROM device_calls WHERE node_id = $1 RETURNING user_id AS u',
      [nodeId],
    );
    return [...new Set(rows.map((r) => r.u))];
  }

  // ---- subscriptions ---------------------------------------------------------------

  async subscription(subscriberId: number, targetId: number): Promise<SubscriptionState | null> {
    return (
      (
        await this.db.row<{ state: SubscriptionState }>(
          'SELECT state FROM subscriptions WHERE subscriber_id = $1 AND target_id = $2',
          [subscriberId, targetId],
        )
      )?.state ?? null
    );
  }

  async upsertSubscription(
    subscriberId: number,
    targetId: number,
    state: SubscriptionState,
    now: number,
  ): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO subscriptions (subscriber_id, target_id, state, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subscriber_id, target_id) DO UPDATE SET state = excluded.state`,
      [subscriberId, targetId, state, now],
    );
  }

  async approveMutual(userId: number, otherId: number, now: number): Promise<void> {
    // One statement: both rows or neither.
    await this.db.pool.query(
      `INSERT INTO subscriptions (subscriber_id, target_id, state, created_at) VALUES ($2, $1, 'approved', $3), ($1, $2, 'approved', $3)
       ON CONFLICT (subscriber_id, target_id) DO UPDATE SET state = excluded.state`,
      [userId, otherId, now],
    );
  }

  async deleteSubscription(subscriberId: number, targetId: number): Promise<boolean> {
    return (
      (await this.db.count('DELETE FROM subscriptions WHERE subscriber_id = $1 AND target_id = $2', [
        subscriberId,
        targetId,
      ])) > 0
    );
  }

  async deleteMutual(userId: number, otherId: number): Promise<void> {
    await this.db.pool.query(
      `DELETE FROM subscriptions WHERE (subscriber_id = $1 AND target_id = $2) OR (subscriber_id = $2 AND target_id = $1)`,
      [userId, otherId],
    );
  }

  subscriptionsOf(userId: number): Promise<{ targetId: number; state: SubscriptionState }[]> {
    return this.db.rows(
      'SELECT target_id AS "targetId", state FROM subscriptions WHERE subscriber_id = $1 ORDER BY created_at, target_id',
      [userId],
    );
  }

  async subscribersOf(userId: number): Promise<number[]> {
    return (
      await this.db.rows<{ s: number }>(
        "SELECT subscriber_id AS s FROM subscriptions WHERE target_id = $1 AND state = 'approved' ORDER BY subscriber_id",
        [userId],
      )
    ).map((r) => r.s);
  }

  requestsTo(userId: number): Promise<{ fromUserId: number; createdAt: number }[]> {
    return this.db.rows(
      `SELECT subscriber_id AS "fromUserId", created_at AS "createdAt" FROM subscriptions
       WHERE target_id = $1 AND state = 'requested' ORDER BY created_at, subscriber_id`,
      [userId],
    );
  }

  // ---- sessions ----------------------------------------------------------------------

  insertSession(id: string, ownerId: number, inviteeIds: number[], now: number): Promise<void> {
    return this.db.tx(async (c) => {
      await c.query('INSERT INTO im_sessions (id, owner_id, created_at) VALUES ($1, $2, $3)', [id, ownerId, now]);
      // The owner first, then the invitees in the order given (seq is the order of the members).
      await c.query(
        `INSERT INTO session_members (session_id, user_id, state, invited_by, updated_at)
         SELECT $1, u, CASE WHEN o = 1 THEN 'joined' ELSE 'invited' END, CASE WHEN o = 1 THEN NULL ELSE $2::int END, $3
         FROM unnest($4::int[]) WITH ORDINALITY AS x(u, o) ORDER BY o`,
        [id, ownerId, now, [ownerId, ...inviteeIds]],
      );
    });
  }

  async session(id: string): Promise<ImSession | null> {
    const s = await this.db.row<Omit<ImSession, 'members'>>(
      'SELECT id, owner_id AS "ownerId", created_at AS "createdAt" FROM im_sessions WHERE id = $1',
      [id],
    );
    if (!s) return null;
    const members = await this.db.rows<ImSession['members'][number]>(
      'SELECT user_id AS "userId", state FROM session_members WHERE session_id = $1 ORDER BY seq',
      [id],
    );
    return { ...s, members };
  }

  async memberState(sessionId: string, userId: number): Promise<MemberState | null> {
    return (
      (
        await this.db.row<{ state: MemberState }>(
          'SELECT state FROM session_members WHERE session_id = $1 AND user_id = $2',
          [sessionId, userId],
        )
      )?.state ?? null
    );
  }

  async setMember(
    sessionId: string,
    userId: number,
    state: MemberState,
    invitedBy: number | null,
    now: number,
  ): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO session_members (session_id, user_id, state, invited_by, updated_at, read_until)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $3 IN ('left', 'declined')
         THEN (SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = $1) END)
       ON CONFLICT (session_id, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
         invited_by = COALESCE(excluded.invited_by, session_members.invited_by), read_until = excluded.read_until`,
      [sessionId, userId, state, invitedBy, now],
    );
  }

  async readUntil(sessionId: string, userId: number): Promise<number | null> {
    return (
      (
        await this.db.row<{ n: number | null }>(
          'SELECT read_until AS n FROM session_members WHERE session_id = $1 AND user_id = $2',
          [sessionId, userId],
        )
      )?.n ?? null
    );
  }

  async membership(sessionId: string): Promise<Membership | null> {
    const rows = await this.db.rows<{ version: string; userId: number | null; state: MemberState | null }>(
      `SELECT s.member_version AS version, m.user_id AS "userId", m.state FROM im_sessions s
       LEFT JOIN session_members m ON m.session_id = s.id WHERE s.id = $1 ORDER BY m.seq`,
      [sessionId],
    );
    const first = rows[0];
    if (!first) return null;
    const members: Membership['members'] = [];
    for (const r of rows) if (r.userId !== null && r.state !== null) members.push({ userId: r.userId, state: r.state });
    return { version: Number(first.version), members };
  }

  async recipients(sessionId: string, senderId: number): Promise<number[]> {
    return (
      await this.db.rows<{ u: number }>(
        `SELECT user_id AS u FROM session_members WHERE session_id = $1 AND user_id <> $2
         AND state IN ('invited', 'joined') ORDER BY seq`,
        [sessionId, senderId],
      )
    ).map((r) => r.u);
  }

  async sessionIdsOf(userId: number, states: MemberState[]): Promise<string[]> {
    return (
      await this.db.rows<{ id: string }>(
        `SELECT m.session_id AS id FROM session_members m JOIN im_sessions s ON s.id = m.session_id
         WHERE m.user_id = $1 AND m.state = ANY($2::text[]) ORDER BY s.created_at DESC, s.id COLLATE "C"`,
        [userId, states],
      )
    ).map((r) => r.id);
  }

  // ---- messages and deliveries -------------------------------------------------------

  async message(id: number): Promise<StoredMessage | null> {
    const r = await this.db.row<MessageRow>(`SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id = $1`, [id]);
    return r ? toMessage(r) : null;
  }

  async history(
    sessionId: string,
    afterId: number,
    limit: number,
    untilId = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredMessage[]> {
    return (
      await this.db.rows<MessageRow>(
        `SELECT ${MESSAGE_COLS} FROM messages m WHERE m.session_id = $1 AND m.id > $2 AND m.id <= $3
         ORDER BY m.id LIMIT $4`,
        [sessionId, afterId, untilId, limit],
      )
    ).map(toMessage);
  }

  async recent(sessionId: string, limit: number, untilId = Number.MAX_SAFE_INTEGER): Promise<StoredMessage[]> {
    return (
      await this.db.rows<MessageRow>(
        `SELECT * FROM (SELECT ${MESSAGE_COLS} FROM messages m WHERE m.session_id = $1 AND m.id <= $2
         ORDER BY m.id DESC LIMIT $3) AS r ORDER BY id`,
        [sessionId, untilId, limit],
      )
    ).map(toMessage);
  }

  async pendingDeliveries(since: number, limit: number): Promise<{ recipientId: number; message: StoredMessage }[]> {
    return (
      await this.db.rows<MessageRow & { recipient_id: number }>(
        `SELECT d.recipient_id, ${MESSAGE_COLS} FROM deliveries d JOIN messages m ON m.id = d.message_id
         WHERE d.state = 'pending' AND m.created_at >= $1 ORDER BY m.id, d.recipient_id LIMIT $2`,
        [since, limit],
      )
    ).map((r) => ({ recipientId: r.recipient_id, message: toMessage(r) }));
  }

  async messagesFor(
    userId: number,
    states: DeliveryState[],
    opts: { sessionId?: string; afterId?: number; limit?: number } = {},
  ): Promise<StoredMessage[]> {
    const args: unknown[] = [userId, states, opts.afterId ?? 0, opts.limit ?? 1000];
    let sql = `SELECT ${MESSAGE_COLS} FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.recipient_id = $1 AND d.state = ANY($2::text[]) AND d.message_id > $3`;
    if (opts.sessionId !== undefined) {
      args.push(opts.sessionId);
      sql += ' AND m.session_id = $5';
    }
    sql += ' ORDER BY m.id LIMIT $4';
    return (await this.db.rows<MessageRow>(sql, args)).map(toMessage);
  }

  deliveryStates(messageId: number): Promise<{ recipientId: number; state: DeliveryState }[]> {
    return this.db.rows(
      'SELECT recipient_id AS "recipientId", state FROM deliveries WHERE message_id = $1 ORDER BY recipient_id',
      [messageId],
    );
  }

  async advanceDeliveries(userId: number, messageIds: number[], to: DeliveryState, now: number): Promise<number[]> {
    const allowed = ADVANCE_FROM[to];
    if (allowed.length === 0 || messageIds.length === 0) return [];
    const rows = await this.db.rows<{ id: number }>(
      `UPDATE deliveries SET state = $1, updated_at = $2
       WHERE recipient_id = $3 AND message_id = ANY($4::bigint[]) AND state = ANY($5::text[]) RETURNING message_id AS id`,
      [to, now, userId, messageIds, allowed],
    );
    // In the order asked for, each once (as a statement per id would report them).
    const changed = new Set(rows.map((r) => r.id));
    return messageIds.filter((id) => changed.delete(id));
  }

  async maxMessageId(): Promise<number> {
    return (await this.db.row<{ m: number }>('SELECT COALESCE(MAX(id), 0) AS m FROM messages'))?.m ?? 0;
  }

  // ---- session objects ----------------------------------------------------------------

  async insertObject(o: SessionObject, tokenHash: string): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO session_objects (id, token_hash, user_id, client, csrf, node_id, cursor, created_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [o.id, tokenHash, o.userId, o.client, o.csrf, o.nodeId, Number(o.cursor), o.createdAt, o.lastSeenAt],
    );
  }

  private async objectWhere(where: string, value: string): Promise<SessionObject | null> {
    const r = await this.db.row<ObjectRow>(`SELECT ${OBJECT_COLS} FROM session_objects WHERE ${where}`, [value]);
    return r ? toObject(r) : null;
  }

  objectByTokenHash(hash: string): Promise<SessionObject | null> {
    return this.objectWhere('token_hash = $1', hash);
  }

  objectById(id: string): Promise<SessionObject | null> {
    return this.objectWhere('id = $1', id);
  }

  async objectNodes(ids: readonly string[]): Promise<Map<string, string>> {
    const r = await this.db.pool.query<{ id: string; node_id: string }>(
      'SELECT id, node_id FROM session_objects WHERE id = ANY($1::text[])',
      [ids],
    );
    return new Map(r.rows.map((x) => [x.id, x.node_id]));
  }

  async touchObject(id: string, now: number): Promise<void> {
    await this.db.pool.query('UPDATE session_objects SET last_seen_at = $1 WHERE id = $2', [now, id]);
  }

  async setCursor(id: string, cursor: number): Promise<void> {
    await this.db.pool.query('UPDATE session_objects SET cursor = GREATEST(cursor, $1) WHERE id = $2', [cursor, id]);
  }

  /*
   * A session object's end or move raises the credentials version
   * (008-credentials-version.sql) in the same statement, so that a node
   * serving tokens from memory sees it on its next request.
   */

  async takeOver(id: string, fromNode: string, toNode: string): Promise<boolean> {
    return (
      (await this.changedCredentials('UPDATE session_objects SET node_id = $1 WHERE id = $2 AND node_id = $3', [
        toNode,
        id,
        fromNode,
      ])) > 0
    );
  }

  async deleteObject(id: string): Promise<boolean> {
    return (await this.changedCredentials('DELETE FROM session_objects WHERE id = $1', [id])) > 0;
  }

  deleteIdleObjects(seenBefore: number): Promise<number> {
    return this.changedCredentials('DELETE FROM session_objects WHERE last_seen_at < $1', [seenBefore]);
  }

  /** Runs `change` (an UPDATE or DELETE of session_objects) and, when it changed rows, bumps the version with it. */
  private async changedCredentials(change: string, params: unknown[]): Promise<number> {
    const r = await this.db.row<{ n: string }>(
      `WITH c AS (${change} RETURNING 1),
            v AS (UPDATE credentials_version SET version = version + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM c))
       SELECT COUNT(*) AS n FROM c`,
      params,
    );
    return Number(r?.n ?? 0);
  }

  async objectsOf(userId: number): Promise<SessionObject[]> {
    return (
      await this.db.rows<ObjectRow>(
        `SELECT ${OBJECT_COLS} FROM session_objects WHERE user_id = $1 ORDER BY created_at, id COLLATE "C"`,
        [userId],
      )
    ).map(toObject);
  }

  // ---- what the nodes share ---------------------------------------------------------------

  async sharedSecret(name: string, candidate: string): Promise<string> {
    await this.db.pool.query('INSERT INTO web_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      name,
      candidate,
    ]);
    // A statement of its own: it sees the row of whichever node won.
    const r = await this.db.row<{ value: string }>('SELECT value FROM web_secrets WHERE name = $1', [name]);
    return (r as { value: string }).value;
  }

  async renewLease(nodeId: string, publicUrl: string, until: number, now: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO node_leases (node_id, public_url, lease_until, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (node_id) DO UPDATE SET public_url = excluded.public_url, lease_until = excluded.lease_until,
         updated_at = excluded.updated_at`,
      [nodeId, publicUrl, until, now],
    );
  }

  lease(nodeId: string): Promise<{ publicUrl: string; leaseUntil: number } | null> {
    return this.db.row(
      'SELECT public_url AS "publicUrl", lease_until AS "leaseUntil" FROM node_leases WHERE node_id = $1',
      [nodeId],
    );
  }

  async expiredNodes(now: number, except: string): Promise<string[]> {
    return (
      await this.db.rows<{ n: string }>(
        'SELECT node_id AS n FROM node_leases WHERE lease_until < $1 AND node_id <> $2 ORDER BY node_id COLLATE "C"',
        [now, except],
      )
    ).map((r) => r.n);
  }

  async releaseLease(nodeId: string): Promise<void> {
    await this.db.pool.query('UPDATE node_leases SET lease_until = 0 WHERE node_id = $1', [nodeId]);
  }
}
