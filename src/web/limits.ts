/**
 * The web's limits on what one client or one user may ask for at once, kept
 * by @fastify/rate-limit (its in-memory store, one per limit).
 *
 * Rules:
 * - Log-ins (JSON API and log-in form alike) are counted per client address
 *   and per account name, each in a fixed window of http.loginWindowSeconds;
 *   a try over either limit is refused before any secret is hashed (a flood
 *   must not fill the scrypt threads that also serve Asterisk's audio).
 * - Posts are counted per user over http.postWindowSeconds, whatever the way
 *   in (API, form, WebSocket frame): one limiter is asked from all three,
 *   which is why the limits are called here rather than hung on routes (a
 *   WebSocket frame is not a request).
 * - A refusal is WEB_RATE_LIMITED (429) with the seconds until the window
 *   turns, for a Retry-After header.
 * - The client address is the socket's peer; X-Forwarded-For is not believed.
 * - Counters live in memory on each node (an LRU of the most recent keys per
 *   limit), in wall-clock time.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export function rateLimited(retryAfterSeconds: number, what: string): AppError {
  return new AppError('WEB_RATE_LIMITED', `too many ${what}; try again in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}

/** What a limiter is asked about: the key it counts (the limiter reads no more of a request). */
function subject(key: string): FastifyRequest {
  return { key, routeOptions: { config: {} } } as unknown as FastifyRequest;
}

const keyOf = (req: FastifyRequest) => (req as unknown as { key: string }).key;

export class WebLimits {
  private limiters: { byAddress: Limiter; byAccount: Limiter; posts: Limiter } | undefined;

  /** `app` has @fastify/rate-limit registered (server.ts); the limiters are made on first use, once it is ready. */
  constructor(
    private readonly app: FastifyInstance,
    private readonly config: Pick<Config, 'http'>,
  ) {}

  private get l() {
    const h = this.config.http;
    const limiter = (max: number, seconds: number) =>
      this.app.createRateLimit({ max, timeWindow: seconds * 1000, keyGenerator: keyOf });
    this.limiters ??= {
      byAddress: limiter(h.loginsPerAddress, h.loginWindowSeconds),
      byAccount: limiter(h.loginsPerAccount, h.loginWindowSeconds),
      posts: limiter(h.postsPerUser, h.postWindowSeconds),
    };
    return this.limiters;
  }

  private static wait(r: Awaited<ReturnType<Limiter>>): number {
    return r.isAllowed || !r.isExceeded ? 0 : Math.max(1, r.ttlInSeconds);
  }

  /** Throws WEB_RATE_LIMITED when this address or this account name has tried too often. */
  async checkLogin(address: string, username: string): Promise<void> {
    const [byAddress, byAccount] = await Promise.all([
      this.l.byAddress(subject(address)),
      this.l.byAccount(subject(username.trim().toLowerCase())),
    ]);
    const wait = Math.max(WebLimits.wait(byAddress), WebLimits.wait(byAccount));
    if (wait > 0) throw rateLimited(wait, 'log-in tries');
  }

  /** Throws WEB_RATE_LIMITED when the user has posted too often. */
  async checkPost(userId: number): Promise<void> {
    const wait = WebLimits.wait(await this.l.posts(subject(String(userId))));
    if (wait > 0) throw rateLimited(wait, 'messages');
  }
}

/** The peer's address (a proxy's X-Forwarded-For is not believed). */
export function clientAddress(req: FastifyRequest): string {
  return req.socket.remoteAddress ?? 'unknown';
}
