/**
 * The message cache's group commit on PostgreSQL (MessageCommitter): one
 * transaction per batch, the messages in one multi-row INSERT and their
 * delivery rows in another, the ride-along deliveries and cursors, and a
 * NOTIFY per batch naming the new message ids so the other nodes' feeds
 * fetch them (node-feed.ts). NOTIFY is part of the transaction: it goes out
 * at commit, in commit order, and never for a batch that rolled back.
 * Durable at commit (synchronous_commit stays on). When the batch fails,
 * each entry is committed alone, so one bad message cannot sink the others.
 */
import type pg from 'pg';
import type {
  CommitBatch,
  CommitEntry,
  CommitResult,
  DeliveredUpdate,
  MessageCommitter,
} from '../../presence/ports.js';
import { inTransaction } from './pool.js';

export const FEED_CHANNEL = 'phoneim_feed';
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
    try {
      return await inTransaction(this.pool, async (c) => {
        const ids = await this.write(c, batch.entries);
        await this.rideAlong(c, batch.delivered, batch.cursors, batch.now);
        if (ids.length > 0) await notifyFeed(c, { n: this.nodeId, m: ids });
        return ids.map((id) => ({ ok: true as const, id }));
      });
    } catch {
      try {
        await inTransaction(this.pool, (c) => this.rideAlong(c, batch.delivered, batch.cursors, batch.now));
      } catch {
        // Delivery states only: the messages stay pending and are given again (at least once).
      }
      const out: CommitResult[] = [];
      for (const e of batch.entries) {
        try {
          const [id] = await inTransaction(this.pool, async (c) => {
            const ids = await this.write(c, [e]);
            await notifyFeed(c, { n: this.nodeId, m: ids });
            return ids;
          });
          out.push({ ok: true, id: id as number });
        } catch (err) {
          out.push(...failed([e], err));
        }
      }
      return out;
    }
  }

  /** Inserts the messages (in order: ids rise with the entries) and their pending deliveries; returns the ids. */
  private async write(c: pg.ClientBase, entries: CommitEntry[]): Promise<number[]> {
    if (entries.length === 0) return [];
    const col = <K extends keyof CommitEntry>(k: K) => entries.map((e) => e[k]);
    const r = await c.query<{ id: number }>(
      `INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at)
       SELECT s, f, k, t, a, u, $7, c FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $8::bigint[])
         WITH ORDINALITY AS x(s, f, k, t, a, u, c, o) ORDER BY o
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
