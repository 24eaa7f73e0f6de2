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
import type { PresenceStore } from './ports.js';
import type { SessionObject } from './types.js';

export type ResumeResult =
  | { kind: 'ok'; object: SessionObject }
  | { kind: 'redirect'; url: string; nodeId: string }
  | { kind: 'invalid' };

export interface SessionObjectsOptions {
  repo: PresenceStore;
  clock: Clock;
  log: Logger;
  nodeId: string;
  idleSeconds: number;
  leaseSeconds: number;
  /** Called when a dead node's lease lapses (its links are dropped from presence). */
  onNodeExpired?: (nodeId: string) => Promise<void> | void;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export class SessionObjects {
  private readonly repo: PresenceStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly nodeId: string;
  private readonly idleMs: number;
  private readonly leaseMs: number;
  private publicUrl: string | null = null;
  private leaseTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private readonly onNodeExpired: (nodeId: string) => Promise<void> | void;
  private isStopped = false;

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
  async start(publicUrl: string): Promise<void> {
    this.publicUrl = publicUrl;
    this.isStopped = false;
    await this.renew();
    this.scheduleSweep();
  }

  stop(): void {
    this.isStopped = true;
    if (this.leaseTimer) this.clock.clearTimeout(this.leaseTimer);
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.leaseTimer = undefined;
    this.sweepTimer = undefined;
  }

  /**
   * Renews this node's lease and lets go of dead nodes; the next round is
   * armed first, so it keeps its pace whatever the store takes. A failure is
   * logged and the next round tries again.
   */
  private async renew(): Promise<void> {
    if (!this.isStopped)
      this.leaseTimer = this.clock.setTimeout(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    try {
      const now = this.clock.now();
      if (this.publicUrl) await this.repo.renewLease(this.nodeId, this.publicUrl, now + this.leaseMs, now);
      for (const dead of await this.repo.expiredNodes(now, this.nodeId)) await this.onNodeExpired(dead);
    } catch (e) {
      this.log.error({ err: e }, 'could not renew the node lease');
    }
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimeout(
      () => {
        if (!this.isStopped) this.scheduleSweep();
        this.sweep().catch((e: unknown) => this.log.error({ err: e }, 'could not sweep idle session objects'));
      },
      Math.min(60_000, Math.max(1000, Math.floor(this.idleMs / 4))),
    );
  }

  /** Deletes idle objects; returns how many. */
  async sweep(): Promise<number> {
    const n = await this.repo.deleteIdleObjects(this.clock.now() - this.idleMs);
    if (n > 0) this.log.info({ expired: n }, 'idle session objects expired');
    return n;
  }

  async create(userId: number, client: string): Promise<{ object: SessionObject; token: string }> {
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    const object: SessionObject = {
      id: randomUUID(),
      userId,
      client,
      csrf: randomBytes(18).toString('base64url'),
      nodeId: this.nodeId,
      cursor: String(await this.repo.maxMessageId()),
      createdAt: now,
      lastSeenAt: now,
    };
    // A new object starts at "now" for replay; messages still pending reach it through the delivery state.
    await this.repo.insertObject(object, hashToken(token));
    this.log.info({ session: object.id, user: userId, client }, 'session object created');
    return { object, token };
  }

  /** Finds the object a token names, and decides where it is served. */
  async resume(token: unknown): Promise<ResumeResult> {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return { kind: 'invalid' };
    const object = await this.repo.objectByTokenHash(hashToken(token));
    const now = this.clock.now();
    if (!object) return { kind: 'invalid' };
    if (now - object.lastSeenAt > this.idleMs) {
      await this.repo.deleteObject(object.id);
      return { kind: 'invalid' };
    }
    if (object.nodeId !== this.nodeId) {
      const lease = await this.repo.lease(object.nodeId);
      if (lease && lease.leaseUntil >= now)
        return { kind: 'redirect', url: lease.publicUrl.replace(/\/+$/, ''), nodeId: object.nodeId };
      if (!(await this.repo.takeOver(object.id, object.nodeId, this.nodeId))) return this.resume(token);
      this.log.info({ session: object.id, from: object.nodeId }, 'session object taken over after its lease lapsed');
      object.nodeId = this.nodeId;
    }
    // Touch at most every tenth of the idle time: reads stay reads.
    if (now - object.lastSeenAt > this.idleMs / 10) await this.repo.touchObject(object.id, now);
    object.lastSeenAt = now;
    return { kind: 'ok', object };
  }

  /** Marks an object used now (a long-lived connection that just ended). */
  async touch(id: string): Promise<void> {
    await this.repo.touchObject(id, this.clock.now());
  }

  async get(id: string): Promise<SessionObject | null> {
    return this.repo.objectById(id);
  }

  /**
   * Of these objects, those no longer served by this node: ended (a log-out,
   * a password change, the idle sweep, on any node) or taken over by another.
   */
  async endedHere(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const nodes = await this.repo.objectNodes(ids);
    return ids.filter((id) => nodes.get(id) !== this.nodeId);
  }

  async advanceCursor(id: string, messageId: number): Promise<void> {
    await this.repo.setCursor(id, messageId);
  }

  async end(id: string): Promise<boolean> {
    return this.repo.deleteObject(id);
  }

  async ofUser(userId: number): Promise<SessionObject[]> {
    return this.repo.objectsOf(userId);
  }

  /** Ends every session object of a user but `keepId` (a password change); returns the ids ended. */
  async endAllOf(userId: number, keepId?: string): Promise<string[]> {
    const ended: string[] = [];
    for (const o of await this.ofUser(userId)) if (o.id !== keepId && (await this.end(o.id))) ended.push(o.id);
    return ended;
  }
}
