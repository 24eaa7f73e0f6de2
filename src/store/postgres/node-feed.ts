/**
 * The node feed on PostgreSQL: pushed with LISTEN/NOTIFY, never polled.
 *
 * - A message: the group commit (message-committer.ts) sends a NOTIFY with
 *   the new ids in the same transaction as the rows, so publishing a message
 *   here sends nothing more.
 * - A link event: one statement stores it in node_events and sends its id.
 * Payloads are small (the sender's node id and row ids); a receiving node
 * reads the rows by id, in the order the notifications came (commit order),
 * and skips its own. Events are kept ten minutes (pruned by publishers).
 *
 * One dedicated connection LISTENs. When it fails, the feed reconnects with
 * a growing delay and then reads, once, what other nodes committed after the
 * newest message and event it had received (best effort, as the port says;
 * a node that was down catches up through delivery states).
 *
 * Each row is given once. The catch-up reads after LISTEN is back (so that
 * nothing committed in between is missed), so a row committed after LISTEN
 * and before the catch-up's read is both read by the catch-up and notified,
 * its notification queued behind the catch-up. The feed remembers the ids
 * it gave lately (RECENT_IDS of each kind) and skips a notified id it gave.
 */
import pg from 'pg';
import { RecentSet } from '../../core/recent-set.js';
import type { NodeFeed, NodeFeedEvent, NodeFeedSubscription } from '../../presence/ports.js';
import type { LinkEvent } from '../../presence/types.js';
import { type FeedNotice, FEED_CHANNEL } from './message-committer.js';
import { MESSAGE_COLS, type MessageRow, toMessage } from './presence.js';

const EVENT_LIFE_MS = 600_000;
/** Rows read at most when catching up after a reconnection. */
const CATCH_UP_MAX = 1000;
/** Ids of each kind remembered as given (at least what one catch-up reads). */
const RECENT_IDS = 2 * CATCH_UP_MAX;

export interface PgNodeFeedOptions {
  nodeId: string;
  pool: pg.Pool;
  /** How the LISTEN connection is opened (the pool's URL and type parsers). */
  clientConfig: pg.ClientConfig;
  /** A failed read, a lost connection or a failing handler. */
  onError?: (e: unknown) => void;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

export class PgNodeFeed implements NodeFeed {
  private readonly nodeId: string;
  private readonly onError: (e: unknown) => void;
  private listener: pg.Client | undefined;
  private handler: ((e: NodeFeedEvent) => void) | undefined;
  private isIdle: () => boolean = () => false;
  private queue: FeedNotice[] = [];
  private draining: Promise<void> | undefined;
  private lastMessage = 0;
  private lastEvent = 0;
  private readonly givenMessages = new RecentSet<number>(RECENT_IDS);
  private readonly givenEvents = new RecentSet<number>(RECENT_IDS);
  private published = 0;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PgNodeFeedOptions) {
    this.nodeId = options.nodeId;
    this.onError = options.onError ?? (() => {});
    this.retryMs = options.reconnectInitialMs ?? 100;
  }

  async publish(event: NodeFeedEvent): Promise<void> {
    // Messages are announced by their commit.
    if (event.type !== 'link-event' || this.closed) return;
    const now = Date.now();
    await this.options.pool.query(
      `WITH e AS (INSERT INTO node_events (node_id, recipient_id, event, created_at) VALUES ($1, $2, $3, $4) RETURNING id)
       SELECT pg_notify($5, json_build_object('n', $1::text, 'e', json_build_array(e.id))::text) FROM e`,
      [this.nodeId, event.recipientId, JSON.stringify(event.event), now, FEED_CHANNEL],
    );
    if (++this.published % 200 === 0)
      await this.options.pool.query('DELETE FROM node_events WHERE created_at < $1', [now - EVENT_LIFE_MS]);
  }

  async subscribe(handler: (e: NodeFeedEvent) => void, options: NodeFeedSubscription = {}): Promise<void> {
    if (this.closed) return;
    this.handler = handler;
    this.isIdle = options.isIdle ?? (() => false);
    const marks = await this.options.pool.query<{ m: number; e: number }>(
      'SELECT (SELECT COALESCE(MAX(id), 0) FROM messages) AS m, (SELECT COALESCE(MAX(id), 0) FROM node_events) AS e',
    );
    this.lastMessage = marks.rows[0]?.m ?? 0;
    this.lastEvent = marks.rows[0]?.e ?? 0;
    await this.listen();
  }

  /** Whether the LISTEN connection is up (for tests and /ready). */
  get isListening(): boolean {
    return this.listener !== undefined;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.options.clientConfig);
    client.on('notification', (n) => {
      if (n.channel !== FEED_CHANNEL || !n.payload) return;
      try {
        const notice = JSON.parse(n.payload) as FeedNotice;
        if (notice.n === this.nodeId) return;
        this.queue.push(notice);
        this.drain();
      } catch (e) {
        this.onError(e);
      }
    });
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, new Error('the feed connection ended')));
    await client.connect();
    await client.query(`LISTEN ${FEED_CHANNEL}`);
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
  }

  private lost(client: pg.Client, e: unknown): void {
    if (this.listener !== client || this.closed) return;
    this.listener = undefined;
    this.onError(e);
    client.end().catch(() => {});
    this.reconnect();
  }

  private reconnect(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.reconnectMaxMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.listen().then(
        () => {
          this.retryMs = this.options.reconnectInitialMs ?? 100;
          // What was committed while nobody listened.
          this.queue.push({ n: '', m: [], e: [] });
          this.drain();
        },
        (err) => {
          this.onError(err);
          this.reconnect();
        },
      );
    }, delay);
    this.retryTimer.unref();
  }

  /** Handles notifications one at a time, in arrival order. */
  private drain(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.queue.length > 0 && !this.closed) {
        const notice = this.queue.shift() as FeedNotice;
        try {
          await this.handle(notice);
        } catch (e) {
          this.onError(e);
        }
      }
    })().finally(() => {
      this.draining = undefined;
    });
  }

  private async handle(notice: FeedNotice): Promise<void> {
    const catchUp = notice.n === '';
    const idle = this.isIdle();
    if (notice.m) {
      if (idle && !catchUp) this.lastMessage = Math.max(this.lastMessage, ...notice.m);
      else {
        const rows = catchUp
          ? await this.read<MessageRow>(
              `SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id > $1 AND m.node_id <> $2 ORDER BY m.id LIMIT ${CATCH_UP_MAX}`,
              [this.lastMessage, this.nodeId],
            )
          : await this.read<MessageRow>(`SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id = ANY($1::bigint[])`, [
              notice.m,
            ]);
        const members = await this.membersOf([...new Set(rows.map((r) => r.session_id))]);
        for (const r of this.inOrder(rows, catchUp ? undefined : notice.m)) {
          this.lastMessage = Math.max(this.lastMessage, r.id);
          if (this.givenMessages.has(r.id)) continue;
          this.givenMessages.add(r.id);
          const recipients = (members.get(r.session_id) ?? []).filter((u) => u !== r.from_user_id);
          if (!idle) this.give({ type: 'message', message: toMessage(r), recipients });
        }
      }
    }
    if (notice.e) {
      if (idle && !catchUp) this.lastEvent = Math.max(this.lastEvent, ...notice.e);
      else {
        const rows = catchUp
          ? await this.read<EventRow>(
              `SELECT id, recipient_id, event FROM node_events WHERE id > $1 AND node_id <> $2 ORDER BY id LIMIT ${CATCH_UP_MAX}`,
              [this.lastEvent, this.nodeId],
            )
          : await this.read<EventRow>('SELECT id, recipient_id, event FROM node_events WHERE id = ANY($1::bigint[])', [
              notice.e,
            ]);
        for (const r of this.inOrder(rows, catchUp ? undefined : notice.e)) {
          this.lastEvent = Math.max(this.lastEvent, r.id);
          if (this.givenEvents.has(r.id)) continue;
          this.givenEvents.add(r.id);
          if (!idle)
            this.give({ type: 'link-event', recipientId: r.recipient_id, event: JSON.parse(r.event) as LinkEvent });
        }
      }
    }
  }

  /** The invited and joined members of each session, as they are now. */
  private async membersOf(sessionIds: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (sessionIds.length === 0) return out;
    const rows = await this.read<{ s: string; u: number }>(
      `SELECT session_id AS s, user_id AS u FROM session_members
       WHERE session_id = ANY($1::text[]) AND state IN ('invited', 'joined') ORDER BY seq`,
      [sessionIds],
    );
    for (const r of rows) out.set(r.s, [...(out.get(r.s) ?? []), r.u]);
    return out;
  }

  private async read<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.options.pool.query(sql, params)).rows as T[];
  }

  /** Rows in the order their ids were notified (commit order), or by id. */
  private inOrder<T extends { id: number }>(rows: T[], ids: number[] | undefined): T[] {
    if (!ids) return rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)).filter((r): r is T => r !== undefined);
  }

  private give(event: NodeFeedEvent): void {
    try {
      this.handler?.(event);
    } catch (e) {
      this.onError(e);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const l = this.listener;
    this.listener = undefined;
    await this.draining?.catch(() => {});
    await l?.end().catch(() => {});
  }
}

interface EventRow {
  id: number;
  recipient_id: number;
  event: string;
}
