/**
 * Session objects and node ownership.
 *
 * Rules:
 * - A session object is what a non-persistent client (a reloaded page, a WAP
 *   phone, a caller who calls back) resumes with its token: the user, a CSRF
 *   token for its forms, and the cursor of the last message it was given.
 *   Only a hash of the token is stored.
 * - An object idle for `sessionObjectIdleSeconds` is gone: resuming it fails
 *   and a sweep deletes it.
 * - Each object is held by one node (the one that created or took it over).
 *   Every node renews a lease in the store every third of `leaseSeconds`.
 *   Resuming on another node answers "redirect to the holder's public URL"
 *   while the holder's lease runs; once it has lapsed, the node that was
 *   reached takes the object over (a conditional update, so two nodes cannot
 *   both take it) and the client carries on there.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { PresenceRepo } from '../store/presence-repo.js';
import type { SessionObject } from './types.js';

export type ResumeResult =
  | { kind: 'ok'; object: SessionObject }
  | { kind: 'redirect'; url: string; nodeId: string }
  | { kind: 'invalid' };

export interface SessionObjectsOptions {
  repo: PresenceRepo;
  clock: Clock;
  log: Logger;
  nodeId: string;
  idleSeconds: number;
  leaseSeconds: number;
  /** Called when a dead node's lease lapses (its links are dropped from presence). */
  onNodeExpired?: (nodeId: string) => void;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export class SessionObjects {
  private readonly repo: PresenceRepo;
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly nodeId: string;
  private readonly idleMs: number;
  private readonly leaseMs: number;
  private publicUrl: string | null = null;
  private leaseTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private readonly onNodeExpired: (nodeId: string) => void;

  constructor(options: SessionObjectsOptions) {
    this.repo = options.repo;
    this.clock = options.clock;
    this.log = options.log;
    this.nodeId = options.nodeId;
    this.idleMs = options.idleSeconds * 1000;
    this.leaseMs = options.leaseSeconds * 1000;
    this.onNodeExpired = options.onNodeExpired ?? (() => {});
  }

  /** Starts holding the lease under this node's public URL, and the idle sweep. */
  start(publicUrl: string): void {
    this.publicUrl = publicUrl;
    this.renew();
    this.scheduleSweep();
  }

  stop(): void {
    if (this.leaseTimer) this.clock.clearTimeout(this.leaseTimer);
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.leaseTimer = undefined;
    this.sweepTimer = undefined;
  }

  private renew(): void {
    const now = this.clock.now();
    if (this.publicUrl) this.repo.renewLease(this.nodeId, this.publicUrl, now + this.leaseMs, now);
    for (const dead of this.repo.expiredNodes(now, this.nodeId)) this.onNodeExpired(dead);
    this.leaseTimer = this.clock.setTimeout(() => this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimeout(
      () => {
        this.sweep();
        this.scheduleSweep();
      },
      Math.min(60_000, Math.max(1000, Math.floor(this.idleMs / 4))),
    );
  }

  /** Deletes idle objects; returns how many. */
  sweep(): number {
    const n = this.repo.deleteIdleObjects(this.clock.now() - this.idleMs);
    if (n > 0) this.log.info({ expired: n }, 'idle session objects expired');
    return n;
  }

  create(userId: number, client: string): { object: SessionObject; token: string } {
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    const object: SessionObject = {
      id: randomUUID(),
      userId,
      client,
      csrf: randomBytes(18).toString('base64url'),
      nodeId: this.nodeId,
      cursor: String(this.repo.maxMessageId()),
      createdAt: now,
      lastSeenAt: now,
    };
    // A new object starts at "now" for replay; messages still pending reach it through the delivery state.
    this.repo.insertObject(object, hashToken(token));
    this.log.info({ session: object.id, user: userId, client }, 'session object created');
    return { object, token };
  }

  /** Finds the object a token names, and decides where it is served. */
  resume(token: unknown): ResumeResult {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return { kind: 'invalid' };
    const object = this.repo.objectByTokenHash(hashToken(token));
    const now = this.clock.now();
    if (!object) return { kind: 'invalid' };
    if (now - object.lastSeenAt > this.idleMs) {
      this.repo.deleteObject(object.id);
      return { kind: 'invalid' };
    }
    if (object.nodeId !== this.nodeId) {
      const lease = this.repo.lease(object.nodeId);
      if (lease && lease.leaseUntil >= now)
        return { kind: 'redirect', url: lease.publicUrl.replace(/\/+$/, ''), nodeId: object.nodeId };
      if (!this.repo.takeOver(object.id, object.nodeId, this.nodeId)) return this.resume(token);
      this.log.info({ session: object.id, from: object.nodeId }, 'session object taken over after its lease lapsed');
      object.nodeId = this.nodeId;
    }
    // Touch at most every tenth of the idle time: reads stay reads.
    if (now - object.lastSeenAt > this.idleMs / 10) this.repo.touchObject(object.id, now);
    object.lastSeenAt = now;
    return { kind: 'ok', object };
  }

  /** Marks an object used now (a long-lived connection that just ended). */
  touch(id: string): void {
    this.repo.touchObject(id, this.clock.now());
  }

  get(id: string): SessionObject | null {
    return this.repo.objectById(id);
  }

  advanceCursor(id: string, messageId: number): void {
    this.repo.setCursor(id, messageId);
  }

  end(id: string): boolean {
    return this.repo.deleteObject(id);
  }

  ofUser(userId: number): SessionObject[] {
    return this.repo.objectsOf(userId);
  }

  /** Ends every session object of a user but `keepId` (a password change); returns the ids ended. */
  endAllOf(userId: number, keepId?: string): string[] {
    return this.ofUser(userId)
      .filter((o) => o.id !== keepId && this.end(o.id))
      .map((o) => o.id);
  }
}
