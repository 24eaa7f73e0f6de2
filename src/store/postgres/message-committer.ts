/**
 * The message cache's group commit on PostgreSQL (MessageCommitter): one
 * transaction per batch, the messages in one multi-row INSERT and their
 * delivery rows in another, the ride-along deliveries and cursors, and a
 * NOTIFY per batch naming the new message ids so the other nodes' feeds
 * fetch them (node-feed.ts). NOTIFY is part of the transaction: it goes out
 * at commit, in commit order, and never for a batch that rolled back.
 * Message ids rise in commit order across the nodes: a batch that writes
 * takes a transaction-level advisory lock before its insert.
 * Durable at commit (synchronous_commit stays on). When the batch fails,
 * each entry is committed alone, so one bad message cannot sink the others;
 * but a batch whose COMMIT the server carried out, though its answer was
 * lost, is not written again (txid_status says so).
 * An entry checked against a membership version that is no longer its
 * session's is not written (stale): the versions are read FOR SHARE in the
 * transaction that writes, so a membership change (its trigger updates the
 * session's row) waits for the commit, or the commit sees the change.
 */
import type pg from 'pg';
import {
  type CommitBatch,
  type CommitEntry,
  type CommitResult,
  type DeliveredUpdate,
  type MessageCommitter,
  storedMessageOf,
} from '../../presence/ports.js';
import type { StoredMessage } from '../../presence/types.js';
import { inTransaction } from './pool.js';
import { MESSAGE_COLS, type MessageRow, toMessage } from './presence.js';

export const FEED_CHANNEL = 'phoneim_feed';
/** pg_advisory_xact_lock key that orders message commits across the nodes ("phmo" in ASCII). */
const MESSAGE_ORDER_LOCK = 0x70686d6f;
/** Ids per NOTIFY payload (under PostgreSQL's 8000-byte limit with room to spare). */
const IDS_PER_NOTIFY = 300;

/** A feed notification: who sent it, and the ids of new messages or node events. */
export interface FeedNotice {
  n: string;
  m?: number[];
  e?: number[];
}

export async function notifyFeed(client: pg.ClientBase, notice: FeedNotice): Promise<void> {
  const ids = notice.m ?? notice.e ?? [];
  for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) {
    const part = ids.slice(i, i + IDS_PER_NOTIFY);
    const payload: FeedNotice = notice.m ? { n: notice.n, m: part } : { n: notice.n, e: part };
    await client.query('SELECT pg_notify($1, $2)', [FEED_CHANNEL, JSON.stringify(payload)]);
  }
}

const failed = (entries: CommitEntry[], e: unknown): CommitResult[] =>
  entries.map(() => ({ ok: false, reason: e instanceof Error ? e.message : String(e) }));

/** The ids of the messages a commit wrote (not those it found already stored). */
const written = (results: CommitResult[]): number[] => results.flatMap((r) => (r.ok && !r.existing ? [r.id] : []));

const clientKey = (fromUserId: number, sessionId: string, clientMessageId: string): string =>
  `${fromUserId}\n${sessionId}\n${clientMessageId}`;

export class PgMessageCommitter implements MessageCommitter {
  private closed = false;
  private inFlight: Promise<unknown> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly nodeId: string,
  ) {}

  warm(): void {
    // The pool opens a connection on first use; open one now so the first message does not pay for it.
    if (this.closed) return;
    this.pool.connect().then(
      (c) => c.release(),
      () => {},
    );
  }

  async commit(batch: CommitBatch): Promise<CommitResult[]> {
    if (this.closed) return failed(batch.entries, new Error('the message store is closed'));
    const run = this.run(batch);
    this.inFlight = run;
    try {
      return await run;
    } finally {
      if (this.inFlight === run) this.inFlight = undefined;
    }
  }

  private async run(batch: CommitBatch): Promise<CommitResult[]> {
    let xid: string | undefined;
    let attempted: CommitResult[] | undefined;
    try {
      return await inTransaction(this.pool, async (c) => {
        xid = (await c.query<{ x: string }>('SELECT txid_current()::text AS x')).rows[0]?.x;
        const results = await this.write(c, batch.entries);
        await this.rideAlong(c, batch.delivered, batch.cursors, batch.now);
        const ids = written(results);
        if (ids.length > 0) await notifyFeed(c, { n: this.nodeId, m: ids });
        attempted = results;
        return results;
      });
    } catch {
      // The connection can fail after the server committed (the answer to COMMIT lost): writing the entries
      // again would store the messages twice. The server says what became of the transaction.
      if (xid !== undefined && attempted && (await this.outcome(xid)) === 'committed') return attempted;
      try {
        await inTransaction(this.pool, (c) => this.rideAlong(c, batch.delivered, batch.cursors, batch.now));
      } catch {
        // Delivery states only: the messages stay pending and are given again (at least once).
      }
      // Alone, each entry also finds a client message id that another node committed meanwhile
      // (the unique index refused the batch's copy): it is answered with that node's message.
      const out: CommitResult[] = [];
      for (const e of batch.entries) {
        try {
          const [r] = await inTransaction(this.pool, async (c) => {
            const results = await this.write(c, [e]);
            const ids = written(results);
            if (ids.length > 0) await notifyFeed(c, { n: this.nodeId, m: ids });
            return results;
          });
          out.push(r as CommitResult);
        } catch (err) {
          out.push(...failed([e], err));
        }
      }
      return out;
    }
  }

  /** What became of a transaction: 'committed', 'aborted', or 'unknown' (still running, or the server cannot say). */
  private async outcome(xid: string): Promise<'committed' | 'aborted' | 'unknown'> {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const r = await this.pool.query<{ s: string | null }>('SELECT txid_status($1::bigint) AS s', [xid]);
        const status = r.rows[0]?.s;
        if (status === 'committed') return 'committed';
        if (status !== 'in progress') return status === 'aborted' ? 'aborted' : 'unknown';
      } catch {
        return 'unknown';
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return 'unknown';
  }

  /**
   * Inserts the messages (in order: ids rise with the entries) and their
   * pending deliveries. An entry whose client message id is already held
   * (committed before, or by an earlier entry of the batch) is not written:
   * its result names the message that holds it.
   */
  private async write(c: pg.ClientBase, entries: CommitEntry[]): Promise<CommitResult[]> {
    if (entries.length === 0) return [];
    const results: (CommitResult | undefined)[] = new Array(entries.length);
    const checked = [...new Set(entries.flatMap((e) => (e.membershipVersion == null ? [] : [e.sessionId])))];
    if (checked.length > 0) {
      const r = await c.query<{ id: string; v: string }>(
        'SELECT id, member_version AS v FROM im_sessions WHERE id = ANY($1::text[]) ORDER BY id FOR SHARE',
        [checked],
      );
      const versions = new Map(r.rows.map((x) => [x.id, Number(x.v)]));
      entries.forEach((e, i) => {
        if (e.membershipVersion != null && versions.get(e.sessionId) !== e.membershipVersion)
          results[i] = { ok: false, reason: "the session's membership changed", isStale: true };
      });
    }
    const keyed = entries.filter((e, i) => e.clientMessageId && !results[i]);
    const held = new Map<string, StoredMessage>();
    if (keyed.length > 0) {
      const r = await c.query<MessageRow & { client_message_id: string }>(
        `SELECT ${MESSAGE_COLS}, m.client_message_id FROM messages m
           JOIN unnest($1::int[], $2::text[], $3::text[]) AS x(f, s, k)
             ON m.from_user_id = x.f AND m.session_id = x.s AND m.client_message_id = x.k`,
        [keyed.map((e) => e.fromUserId), keyed.map((e) => e.sessionId), keyed.map((e) => e.clientMessageId)],
      );
      for (const row of r.rows)
        held.set(clientKey(row.from_user_id, row.session_id, row.client_message_id), toMessage(row));
    }
    const fresh: number[] = [];
    const firstOf = new Map<string, number>();
    const repeats: [number, number][] = [];
    entries.forEach((e, i) => {
      if (results[i]) return;
      if (!e.clientMessageId) {
        fresh.push(i);
        return;
      }
      const k = clientKey(e.fromUserId, e.sessionId, e.clientMessageId);
      const before = held.get(k);
      const first = firstOf.get(k);
      if (before) results[i] = { ok: true, id: Number(before.id), existing: before };
      else if (first !== undefined) repeats.push([i, first]);
      else {
        firstOf.set(k, i);
        fresh.push(i);
      }
    });
    // Message ids follow commit order across the nodes: a sequence hands out ids before commit, so without a turn a
    // smaller id could commit after a larger one, and a reader past the larger (a feed's catch-up, a session's
    // cursor) would never see it. Taken just before the insert and held to the commit.
    if (fresh.length > 0) await c.query('SELECT pg_advisory_xact_lock($1)', [MESSAGE_ORDER_LOCK]);
    const ids = await this.insert(
      c,
      fresh.map((i) => entries[i] as CommitEntry),
    );
    fresh.forEach((i, n) => {
      results[i] = { ok: true, id: ids[n] as number };
    });
    for (const [i, first] of repeats) {
      const id = ids[fresh.indexOf(first)] as number;
      results[i] = { ok: true, id, existing: storedMessageOf(entries[first] as CommitEntry, id) };
    }
    return results as CommitResult[];
  }

  private async insert(c: pg.ClientBase, entries: CommitEntry[]): Promise<number[]> {
    if (entries.length === 0) return [];
    const col = <K extends keyof CommitEntry>(k: K) => entries.map((e) => e[k] ?? null);
    const r = await c.query<{ id: number }>(
      `INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at, client_message_id)
       SELECT s, f, k, t, a, u, $7, c, i FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $8::bigint[], $9::text[])
         WITH ORDINALITY AS x(s, f, k, t, a, u, c, i, o) ORDER BY o
       RETURNING id`,
      [
        col('sessionId'),
        col('fromUserId'),
        col('kind'),
        col('text'),
        col('audioId'),
        col('audioUrl'),
        this.nodeId,
        col('createdAt'),
        col('clientMessageId'),
      ],
    );
    // Identity values are drawn in the order the rows are inserted: the smallest id is the first entry's.
    const ids = r.rows.map((x) => x.id).sort((a, b) => a - b);
    const msg: number[] = [];
    const to: number[] = [];
    const at: number[] = [];
    entries.forEach((e, i) => {
      for (const rcpt of e.recipients) {
        msg.push(ids[i] as number);
        to.push(rcpt);
        at.push(e.createdAt);
      }
    });
    if (msg.length > 0)
      await c.query(
        `INSERT INTO deliveries (message_id, recipient_id, state, updated_at)
         SELECT m, r, 'pending', t FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS x(m, r, t)`,
        [msg, to, at],
      );
    return ids;
  }

  private async rideAlong(
    c: pg.ClientBase,
    delivered: DeliveredUpdate[],
    cursors: [string, number][],
    now: number,
  ): Promise<void> {
    if (delivered.length > 0)
      await c.query(
        `UPDATE deliveries d SET state = 'delivered', updated_at = $1
         FROM unnest($2::int[], $3::bigint[]) AS x(u, m)
         WHERE d.recipient_id = x.u AND d.message_id = x.m AND d.state IN ('pending', 'notified')`,
        [now, delivered.map((d) => d.userId), delivered.map((d) => d.messageId)],
      );
    if (cursors.length > 0)
      await c.query(
        `UPDATE session_objects o SET cursor = GREATEST(o.cursor, x.c)
         FROM (SELECT id, MAX(c) AS c FROM unnest($1::text[], $2::bigint[]) AS u(id, c) GROUP BY id) AS x
         WHERE o.id = x.id`,
        [cursors.map(([id]) => id), cursors.map(([, n]) => n)],
      );
  }

  /** Waits for the commit under way; the pool itself is closed by the store. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight?.catch(() => {});
  }
}
