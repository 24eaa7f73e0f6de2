/**
 * The message cache's durable write path.
 *
 * Rules:
 * - A message is acknowledged (its promise resolves) only after the
 *   transaction that holds it has committed on a connection with
 *   synchronous=FULL: an acknowledged message survives a crash or power loss.
 * - Group commit: messages that arrive within one turn of the event loop
 *   (up to `maxBatch`) share one transaction, so ingest is not bounded by one
 *   fsync per message.
 * - A message and its per-recipient delivery rows (all 'pending') are written
 *   together or not at all. When a batch fails, each of its messages is retried
 *   alone, so one bad message (its session deleted meanwhile) cannot sink the
 *   others; a message that still fails rejects with PRESENCE_STORE_FAILED.
 * - Delivery-state changes after the fact (delivered, read) are not on the
 *   acknowledgement path; the service batches them separately.
 */
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db.js';
import type { StoredMessage } from './types.js';

export interface NewMessage {
  sessionId: string;
  fromUserId: number;
  kind: 'text' | 'voice';
  text: string | null;
  audioId: string | null;
  audioUrl: string | null;
  recipients: number[];
}

interface Pending {
  message: NewMessage;
  createdAt: number;
  resolve: (m: StoredMessage) => void;
  reject: (e: unknown) => void;
}

export interface MessageCacheOptions {
  /**
   * Opens the cache's own connection (set to synchronous=FULL here), on the
   * first message: processes that never post (the admin CLI) never open it.
   */
  open: () => Db;
  nodeId: string;
  clock: Clock;
  maxBatch?: number;
}

export class MessageCache {
  private readonly open: () => Db;
  private conn: { db: Db; insertMessage: Statement; insertDelivery: Statement } | undefined;
  private readonly nodeId: string;
  private readonly clock: Clock;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  /** Figures for the benchmark and the health view. */
  readonly stats = { batches: 0, messages: 0, largestBatch: 0 };

  constructor(options: MessageCacheOptions) {
    this.open = options.open;
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.maxBatch = options.maxBatch ?? 2000;
  }

  private connection(): { db: Db; insertMessage: Statement; insertDelivery: Statement } {
    if (!this.conn) {
      const db = this.open();
      db.pragma('synchronous = FULL');
      this.conn = {
        db,
        insertMessage: db.prepare(
          `INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        insertDelivery: db.prepare(
          "INSERT INTO deliveries (message_id, recipient_id, state, updated_at) VALUES (?, ?, 'pending', ?)",
        ),
      };
    }
    return this.conn;
  }

  /** Stores a message; resolves after its commit. */
  append(message: NewMessage): Promise<StoredMessage> {
    if (this.closed) return Promise.reject(new AppError('PRESENCE_CLOSED', 'the message cache is closed'));
    return new Promise<StoredMessage>((resolve, reject) => {
      this.queue.push({ message, createdAt: this.clock.now(), resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commits what is queued now (normally called by the scheduler). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let stored: StoredMessage[] | null = null;
    let db: Db;
    try {
      db = this.connection().db;
    } catch (e) {
      for (const p of batch)
        p.reject(
          new AppError('PRESENCE_STORE_FAILED', 'the message cache cannot open the store', undefined, { cause: e }),
        );
      return;
    }
    try {
      stored = db.transaction(() => batch.map((p) => this.write(p)))();
    } catch {
      stored = null;
    }
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    if (stored) {
      this.stats.messages += stored.length;
      for (let i = 0; i < batch.length; i++) batch[i]?.resolve(stored[i] as StoredMessage);
      return;
    }
    for (const p of batch) {
      try {
        const m = db.transaction(() => this.write(p))();
        this.stats.messages++;
        p.resolve(m);
      } catch (e) {
        p.reject(
          new AppError('PRESENCE_STORE_FAILED', 'the message could not be stored', undefined, {
            cause: e,
          }),
        );
      }
    }
  }

  private write(p: Pending): StoredMessage {
    const m = p.message;
    const { insertMessage, insertDelivery } = this.connection();
    const info = insertMessage.run(
      m.sessionId,
      m.fromUserId,
      m.kind,
      m.text,
      m.audioId,
      m.audioUrl,
      this.nodeId,
      p.createdAt,
    );
    const id = Number(info.lastInsertRowid);
    for (const r of m.recipients) insertDelivery.run(id, r, p.createdAt);
    return {
      id: String(id),
      sessionId: m.sessionId,
      fromUserId: m.fromUserId,
      kind: m.kind,
      text: m.text,
      audioId: m.audioId,
      audioUrl: m.audioUrl,
      createdAt: p.createdAt,
    };
  }

  /** Commits what is queued and refuses new messages. */
  close(): void {
    this.flush();
    this.closed = true;
    this.conn?.db.close();
    this.conn = undefined;
  }
}
