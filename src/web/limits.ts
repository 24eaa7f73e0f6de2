/**
 * The web's limits on what one client or one user may ask for at once.
 *
 * Rules:
 * - Log-ins (JSON API and log-in form alike) are counted per client address
 *   and per account name, each in a fixed window of http.loginWindowSeconds;
 *   a try over either limit is refused before any secret is hashed (a flood
 *   must not fill the scrypt threads that also serve Asterisk's audio).
 * - Posts are counted per user over http.postWindowSeconds, whatever the way
 *   in (API, form, WebSocket frame).
 * - A refusal is WEB_RATE_LIMITED (429) with the seconds until the window
 *   turns, for a Retry-After header.
 * - The client address is the socket's peer; X-Forwarded-For is not believed.
 * - Counters live in memory on each node, and at most MAX_KEYS of them: a
 *   sweep drops the expired ones first, then the oldest.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';

const MAX_KEYS = 50_000;

interface Window {
  startedAt: number;
  count: number;
}

/** Counts hits per key in fixed windows. */
export class RateCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Counts a hit; returns 0 when allowed, else the seconds until the key may try again. */
  hit(key: string): number {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.startedAt >= this.windowMs) {
      if (w) this.windows.delete(key);
      else if (this.windows.size >= MAX_KEYS) this.sweep(now);
      w = { startedAt: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.limit) return 0;
    return Math.max(1, Math.ceil((w.startedAt + this.windowMs - now) / 1000));
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.startedAt >= this.windowMs) this.windows.delete(k);
    // Still full: drop the oldest windows (Map keeps insertion order).
    for (const k of this.windows.keys()) {
      if (this.windows.size < MAX_KEYS) break;
      this.windows.delete(k);
    }
  }
}

export function rateLimited(retryAfterSeconds: number, what: string): AppError {
  return new AppError('WEB_RATE_LIMITED', `too many ${what}; try again in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}

export class WebLimits {
  private readonly loginsByAddress: RateCounter;
  private readonly loginsByAccount: RateCounter;
  private readonly posts: RateCounter;

  constructor(config: Config, clock: Clock) {
    const h = config.http;
    this.loginsByAddress = new RateCounter(h.loginsPerAddress, h.loginWindowSeconds * 1000, clock);
    this.loginsByAccount = new RateCounter(h.loginsPerAccount, h.loginWindowSeconds * 1000, clock);
    this.posts = new RateCounter(h.postsPerUser, h.postWindowSeconds * 1000, clock);
  }

  /** Throws WEB_RATE_LIMITED when this address or this account name has tried too often. */
  checkLogin(address: string, username: string): void {
    const byAddress = this.loginsByAddress.hit(address);
    const byAccount = this.loginsByAccount.hit(username.trim().toLowerCase());
    const wait = Math.max(byAddress, byAccount);
    if (wait > 0) throw rateLimited(wait, 'log-in tries');
  }

  /** Throws WEB_RATE_LIMITED when the user has posted too often. */
  checkPost(userId: number): void {
    const wait = this.posts.hit(String(userId));
    if (wait > 0) throw rateLimited(wait, 'messages');
  }
}

/** The peer's address (a proxy's X-Forwarded-For is not believed). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
