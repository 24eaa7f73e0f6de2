/**
 * The message cache's durable write path.
 *
 * Rules:
 * - A message is acknowledged (its promise resolves) only after the
 *   transaction that holds it has committed on a connection with
 *   synchronous=FULL: an acknowledged message survives a crash or power loss.
 * - Group commit: messages queue while a commit is under way and go together
 *   in the next one (at most `maxBatch`), so ingest is not bounded by one
 *   fsync per message. Only one batch is in flight at a time: the batch size
 *   follows the store's speed by itself. The store's MessageCommitter does
 *   the writing (on SQLite, a writer thread that runs each commit and its
 *   fsync off the main thread).
 * - A message and its per-recipient delivery rows (all 'pending') are written
 *   together or not at all; a message that cannot be stored rejects with
 *   PRESENCE_STORE_FAILED and the others of its batch are still stored.
 * - A message that carries a client message id (idempotent posting) already
 *   held by a stored message of the same sender and session is not written
 *   again: the commit answers with the stored one (isNew false). The store's
 *   unique index decides, inside the same group commit.
 * - A message checked against a membership version that is no longer its
 *   session's at commit is not written: its append rejects with
 *   MembershipChanged, and the service checks the post again.
 * - Delivery-state changes after the fact (delivered, read) are not on the
 *   acknowledgement path; the service batches them separately.
 */
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import {
  type CommitEntry,
  type CommitResult,
  type DeliveredUpdate,
  type MessageCommitter,
  storedMessageOf,
} from './ports.js';
import type { StoredMessage } from './types.js';

export type NewMessage = Omit<CommitEntry, 'createdAt'>;

/** The session's membership changed after the post was checked against it: nothing was stored. */
export class MembershipChanged extends Error {
  constructor(readonly sessionId: string) {
    super("the session's membership changed");
  }
}

/** A committed message, and whether this append wrote it (false: its client message id was held already). */
export interface Appended {
  message: StoredMessage;
  isNew: boolean;
}

interface Pending {
  entry: CommitEntry;
  resolve: (a: Appended) => void;
  reject: (e: unknown) => void;
}

export interface MessageCacheOptions {
  /** The store's durable writer. */
  committer: MessageCommitter;
  clock: Clock;
  maxBatch?: number;
}

export class MessageCache {
  private readonly options: MessageCacheOptions;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private inFlight: Pending[] | null = null;
  private delivered: DeliveredUpdate[] = [];
  private cursors = new Map<string, number>();
  /** Deliveries and cursors not yet committed, so that reads can see them meanwhile. */
  private readonly unsettled = new Set<string>();
  private readonly unsettledCursors = new Map<string, number>();
  private scheduled = false;
  private closed = false;
  private readonly committer: MessageCommitter;
  private idle: (() => void)[] = [];
  private settles = 0;
  /** Figures for the benchmark and the health view. */
  readonly stats = { batches: 0, messages: 0, largestBatch: 0 };

  constructor(options: MessageCacheOptions) {
    this.options = options;
    this.committer = options.committer;
    this.maxBatch = options.maxBatch ?? 2000;
  }

  /** Stores a message; resolves after its commit. */
  append(message: NewMessage): Promise<Appended> {
    if (this.closed) return Promise.reject(new AppError('PRESENCE_CLOSED', 'the message cache is closed'));
    return new Promise<Appended>((resolve, reject) => {
      this.queue.push({ entry: { ...message, createdAt: this.options.clock.now() }, resolve, reject });
      this.schedule();
    });
  }

  /** Starts the writer (thread or connection) now, so the first message does not pay for it. */
  warm(): void {
    if (!this.closed) this.committer.warm();
  }

  /** How many commits have settled so far (a reader can tell whether one settled while it read the store). */
  get settled(): number {
    return this.settles;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Records (with the next commit) that a link of `userId` was given a message. */
  markDelivered(userId: number, messageId: number, sessionObjectId?: string): void {
    this.delivered.push({ userId, messageId });
    this.unsettled.add(`${userId}:${messageId}`);
    if (sessionObjectId) {
      const c = Math.max(this.cursors.get(sessionObjectId) ?? 0, messageId);
      this.cursors.set(sessionObjectId, c);
      this.unsettledCursors.set(sessionObjectId, Math.max(this.unsettledCursors.get(sessionObjectId) ?? 0, c));
    }
    this.schedule();
  }

  /** True while a delivery is recorded but not yet committed. */
  isDeliveredUnsettled(userId: number, messageId: number): boolean {
    return this.unsettled.has(`${userId}:${messageId}`);
  }

  /** The newest cursor of a session object not yet committed (0 when none). */
  unsettledCursor(sessionObjectId: string): number {
    return this.unsettledCursors.get(sessionObjectId) ?? 0;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight) return;
    if (this.queue.length === 0 && this.delivered.length === 0 && this.cursors.size === 0) {
      for (const f of this.idle.splice(0)) f();
      return;
    }
    const batch = this.queue.splice(0, this.maxBatch);
    const delivered = this.delivered;
    const cursors = [...this.cursors];
    this.delivered = [];
    this.cursors = new Map();
    if (batch.length > 0) {
      this.stats.batches++;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    }
    const entries = batch.map((p) => p.entry);
    this.inFlight = batch;
    this.committer
      .commit({ entries, delivered, cursors, now: this.options.clock.now() })
      .catch((e: unknown): CommitResult[] => entries.map(() => ({ ok: false, reason: String(e) })))
      .then((results) => {
        this.inFlight = null;
        this.settle(batch, results, delivered, cursors);
        this.flush();
      });
  }

  private settle(
    batch: Pending[],
    results: CommitResult[],
    delivered: DeliveredUpdate[],
    cursors: [string, number][],
  ): void {
    this.settles++;
    for (const d of delivered) this.unsettled.delete(`${d.userId}:${d.messageId}`);
    for (const [id, c] of cursors) if ((this.unsettledCursors.get(id) ?? 0) <= c) this.unsettledCursors.delete(id);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      const r = results[i] ?? { ok: false, reason: 'no result' };
      if (r.ok && r.existing) p.resolve({ message: r.existing, isNew: false });
      else if (r.ok) {
        this.stats.messages++;
        p.resolve({ message: storedMessageOf(p.entry, r.id), isNew: true });
      } else if (r.isStale) p.reject(new MembershipChanged(p.entry.sessionId));
      else
        p.reject(
          new AppError('PRESENCE_STORE_FAILED', 'the message could not be stored', undefined, {
            cause: new Error(r.reason),
          }),
        );
    }
  }

  /** Commits what is queued, refuses new messages, and closes the writer. */
  async close(): Promise<void> {
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      this.flush();
    });
    await this.committer.close();
  }
}
