/**
 * The durable outbound queue of each peer (Synapse's per-destination queue).
 *
 * Rules:
 * - Events are stored before anything is sent, and sent in queue order, in
 *   batches, one request at a time per peer.
 * - An event leaves the queue only when the peer answered 2xx for it (it has
 *   applied and stored it), or refused it for good (a 4xx naming that event:
 *   it is logged and dropped so that it cannot block the ones after it).
 * - A peer that does not answer, answers 5xx, 429 or 401 is tried again
 *   later: back-off from retryInitialMs, doubling, up to retryMaxMs. After an
 *   outage (or a restart of either side) the queue catches up in order.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FederationStore, Peer } from './ports.js';

/** Sends one signed request to a peer; throws AppError (FEDERATION_PEER_*) with the peer's status and code. */
export interface PeerClient {
  post(peer: Peer, path: string, body: unknown): Promise<unknown>;
}

/** A peer's refusal as our own error, with what the peer said in details. */
export interface PeerRefusal {
  status: number;
  code: string | undefined;
  eventId: string | undefined;
}

export function refusalOf(e: unknown): PeerRefusal | undefined {
  if (!(e instanceof AppError) || e.code !== 'FEDERATION_PEER_REFUSED') return undefined;
  const d = e.details ?? {};
  return {
    status: Number(d.status),
    code: typeof d.peerCode === 'string' ? d.peerCode : undefined,
    eventId: typeof d.eventId === 'string' ? d.eventId : undefined,
  };
}

interface OutboxDeps {
  store: FederationStore;
  client: PeerClient;
  clock: Clock;
  log: Logger;
  config: Pick<Config['federation'], 'batchSize' | 'retryInitialMs' | 'retryMaxMs' | 'maxBodyBytes'>;
}

interface PeerLoop {
  running: boolean;
  again: boolean;
  timer: TimerHandle | undefined;
  failures: number;
}

export class Outbox {
  private readonly loops = new Map<string, PeerLoop>();
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly deps: OutboxDeps) {}

  async start(): Promise<void> {
    this.stopped = false;
    for (const p of await this.deps.store.peersWithQueue()) this.kick(p);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const l of this.loops.values()) if (l.timer) this.deps.clock.clearTimeout(l.timer);
    while ([...this.loops.values()].some((l) => l.running)) await new Promise<void>((r) => this.idle.add(r));
  }

  async enqueue<E extends { id: string }>(peer: string, events: E[], now: number): Promise<void> {
    await this.deps.store.enqueue(
      peer,
      events.map((e) => ({ eventId: e.id, body: JSON.stringify(e) })),
      now,
    );
    this.kick(peer);
  }

  /** Sends what is queued for the peer now (a new event, or an operator's retry). */
  kick(peer: string): void {
    if (this.stopped) return;
    let loop = this.loops.get(peer);
    if (!loop) {
      loop = { running: false, again: false, timer: undefined, failures: 0 };
      this.loops.set(peer, loop);
    }
    if (loop.running) {
      loop.again = true;
      return;
    }
    if (loop.timer && loop.failures > 0) return; // backing off: the timer will run it
    if (loop.timer) this.deps.clock.clearTimeout(loop.timer);
    loop.timer = undefined;
    loop.running = true;
    void this.run(peer, loop).finally(() => {
      loop.running = false;
      for (const r of this.idle) r();
      this.idle.clear();
      if (loop.again && !this.stopped && !loop.timer) {
        loop.again = false;
        this.kick(peer);
      }
    });
  }

  private later(peer: string, loop: PeerLoop, ms: number): void {
    if (this.stopped) return;
    loop.timer = this.deps.clock.setTimeout(() => {
      loop.timer = undefined;
      this.kick(peer);
    }, ms);
  }

  private async run(peer: string, loop: PeerLoop): Promise<void> {
    const { store, client, clock, log, config } = this.deps;
    while (!this.stopped) {
      loop.again = false;
      const target = await store.peer(peer);
      if (target?.state !== 'active') return;
      const head = await store.head(peer, config.batchSize);
      if (head.length === 0) return;
      // Keep a request well under the receiver's body limit.
      const batch = [];
      let bytes = 16;
      for (const e of head) {
        bytes += Buffer.byteLength(e.body) + 1;
        if (batch.length > 0 && bytes > config.maxBodyBytes / 2) break;
        batch.push(e);
      }
      const events = batch.map((e) => JSON.parse(e.body) as unknown);
      try {
        await client.post(target, '/federation/v1/events', { events });
        await store.dequeue(
          peer,
          batch.map((e) => e.seq),
        );
        await store.peerResult(peer, clock.now(), null);
        loop.failures = 0;
      } catch (e) {
        const refusal = refusalOf(e);
        if (refusal && refusal.status >= 400 && refusal.status < 500 && ![401, 408, 429].includes(refusal.status)) {
          // The peer applied the events before the refused one; the refused one is dropped for good.
          const at = batch.findIndex((b) => b.eventId === refusal.eventId);
          const drop = at >= 0 ? batch.slice(0, at + 1) : batch.slice(0, 1);
          log.error(
            { peer, event: drop.at(-1)?.eventId, status: refusal.status, peerCode: refusal.code },
            'peer refused an event for good; dropped',
          );
          await store.dequeue(
            peer,
            drop.map((b) => b.seq),
          );
          continue;
        }
        loop.failures++;
        const wait = Math.min(config.retryMaxMs, config.retryInitialMs * 2 ** Math.min(loop.failures - 1, 20));
        await store.retryLater(
          peer,
          batch.map((b) => b.seq),
          clock.now() + wait,
        );
        await store.peerResult(peer, clock.now(), (e as Error).message.slice(0, 300));
        log.warn(
          { peer, queued: head.length, retryInMs: wait, err: (e as Error).message },
          'peer not reached; will retry',
        );
        this.later(peer, loop, wait);
        return;
      }
    }
  }
}
