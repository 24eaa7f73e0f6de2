/**
 * The node feed on SQLite: nodes sharing one database file poll it.
 *
 * Messages need no publishing: each node reads the messages other nodes
 * committed (messages.node_id) after the last one it saw. Other events are
 * rows of node_events, read the same way and deleted after ten minutes
 * (events are for nodes that are up). While the subscriber is idle (no link
 * on this node would take anything) the feed only moves its marks forward.
 */
import type { NodeFeed, NodeFeedEvent, NodeFeedSubscription } from '../../presence/ports.js';
import type { LinkEvent } from '../../presence/types.js';
import type { Db } from './db.js';
import { MESSAGE_COLS, type MessageRow, toMessage } from './presence.js';

const BATCH = 500;
const EVENT_LIFE_MS = 600_000;

export interface SqliteNodeFeedOptions {
  nodeId: string;
  intervalMs?: number;
  /** Where a failed poll or a failing handler is reported. */
  onError?: (e: unknown) => void;
}

export class SqliteNodeFeed implements NodeFeed {
  private readonly nodeId: string;
  private readonly intervalMs: number;
  private readonly onError: (e: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private handler: ((e: NodeFeedEvent) => void) | undefined;
  private isIdle: () => boolean = () => false;
  private messagesFrom = 0;
  private eventsFrom = 0;
  private runs = 0;
  private closed = false;

  constructor(
    private readonly db: Db,
    options: SqliteNodeFeedOptions,
  ) {
    this.nodeId = options.nodeId;
    this.intervalMs = options.intervalMs ?? 250;
    this.onError = options.onError ?? (() => {});
  }

  async publish(event: NodeFeedEvent): Promise<void> {
    // Messages are in the messages table already.
    if (event.type !== 'link-event' || this.closed) return;
    this.db
      .prepare('INSERT INTO node_events (node_id, recipient_id, event, created_at) VALUES (?, ?, ?, ?)')
      .run(this.nodeId, event.recipientId, JSON.stringify(event.event), Date.now());
  }

  async subscribe(handler: (e: NodeFeedEvent) => void, options: NodeFeedSubscription = {}): Promise<void> {
    if (this.closed) return;
    this.handler = handler;
    this.isIdle = options.isIdle ?? (() => false);
    this.skipToNewest();
    this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.poll();
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  private skipToNewest(): void {
    this.messagesFrom = Math.max(
      this.messagesFrom,
      (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM messages').get() as { m: number }).m,
    );
    this.eventsFrom = Math.max(
      this.eventsFrom,
      (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM node_events').get() as { m: number }).m,
    );
  }

  /** One look at the store: what other nodes committed or left since the last look. */
  poll(): void {
    if (this.closed || !this.handler) return;
    try {
      if (this.isIdle()) this.skipToNewest();
      else {
        this.readMessages();
        this.readEvents();
      }
      if (++this.runs % 240 === 0)
        this.db.prepare('DELETE FROM node_events WHERE created_at < ?').run(Date.now() - EVENT_LIFE_MS);
    } catch (e) {
      this.onError(e);
    }
  }

  private give(event: NodeFeedEvent): void {
    try {
      this.handler?.(event);
    } catch (e) {
      this.onError(e);
    }
  }

  private readMessages(): void {
    const recipients = this.db.prepare(
      "SELECT user_id AS u FROM session_members WHERE session_id = ? AND user_id <> ? AND state IN ('invited', 'joined')",
    );
    // Every message up to this id is committed now: the loop below sees the other nodes' among them.
    const newest = (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM messages').get() as { m: number }).m;
    for (;;) {
      const rows = this.db
        .prepare(`SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id > ? AND m.node_id <> ? ORDER BY m.id LIMIT ?`)
        .all(this.messagesFrom, this.nodeId, BATCH) as MessageRow[];
      if (rows.length === 0) break;
      for (const r of rows) {
        this.messagesFrom = r.id;
        const to = (recipients.all(r.session_id, r.from_user_id) as { u: number }[]).map((x) => x.u);
        this.give({ type: 'message', message: toMessage(r), recipients: to });
      }
    }
    // This node's own messages up to then are skipped for good.
    this.messagesFrom = Math.max(this.messagesFrom, newest);
  }

  private readEvents(): void {
    for (;;) {
      const rows = this.db
        .prepare(
          'SELECT id, recipient_id AS recipientId, event FROM node_events WHERE id > ? AND node_id <> ? ORDER BY id LIMIT ?',
        )
        .all(this.eventsFrom, this.nodeId, BATCH) as { id: number; recipientId: number; event: string }[];
      if (rows.length === 0) return;
      for (const r of rows) {
        this.eventsFrom = r.id;
        this.give({ type: 'link-event', recipientId: r.recipientId, event: JSON.parse(r.event) as LinkEvent });
      }
    }
  }
}
