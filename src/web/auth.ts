/**
 * Who is asking: the session object a request names by its token (a bearer
 * header for API clients, a cookie for browsers, `s=` in the URL for WAP
 * phones that keep no cookies), and where it is served. A request that
 * reached the wrong node is answered with 307 to the node that holds the
 * session object, same path and query (307 keeps the method and body).
 */
import { timingSafeEqual } from 'node:crypto';
import { bearerOf } from '../core/net.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/types.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { SessionObjects } from '../presence/session-objects.js';
import type { SessionObject } from '../presence/types.js';

export const COOKIE = 'sid';

export interface WebAuth {
  object: SessionObject;
  user: User;
  token: string;
  /** Where the token came from: a cookie rides along on cross-site requests, the others do not. */
  via?: 'bearer' | 'query' | 'cookie';
}

/** The token a request carries, in order of precedence: bearer header, `s` or `token` query parameter, cookie. */
export function tokenOf(req: FastifyRequest): { token: string; via: 'bearer' | 'query' | 'cookie' } | undefined {
  const bearer = bearerOf(req.headers.authorization);
  if (bearer !== undefined) return { token: bearer, via: 'bearer' };
  const query = (req.query ?? {}) as Record<string, unknown>;
  const t = query.s ?? query.token;
  if (typeof t === 'string' && t !== '') return { token: t, via: 'query' };
  const c = req.cookies[COOKIE];
  return c ? { token: c, via: 'cookie' } : undefined;
}

export type Resolved = { kind: 'ok'; auth: WebAuth } | { kind: 'redirect'; location: string } | { kind: 'none' };

interface Known {
  object: SessionObject;
  user: User;
  /** The credentials version read before the token was resolved. */
  version: number;
  /** Served from memory until then; after it, resume() runs (and touches the object) again. */
  until: number;
}

/** Tokens kept at most (the oldest goes first): each entry is a few hundred bytes. */
const MAX_KNOWN = 20_000;

/**
 * Who a request's token names. Resolving a token costs a hash, the session
 * object and its user from the store; this node keeps the tokens it resolved,
 * so that a request in a series costs one read of the credentials version
 * (AccountStore.credentialsVersion). Rules that keep it exact:
 * - An entry is served only when the version read for this request equals
 *   the one read before the entry was resolved. Every end or move of a
 *   session object (log-out, password change, idle expiry, take-over) and
 *   every change of a user raises the version in the same commit, on any
 *   node or by phonectl; so a request that begins after a log-out's answer
 *   misses, resolves again and is refused - on this node and every other.
 * - Only answers "served here" are kept, each for at most a tenth of the idle
 *   time: then resume() runs again and touches the object as it would have
 *   (the stored last use lags by at most two tenths, far from the expiry).
 * - At most MAX_KNOWN entries.
 */
export class WebSessions {
  private readonly known = new Map<string, Known>();
  private readonly keepMs: number;

  constructor(
    private readonly objects: SessionObjects,
    private readonly accounts: AccountService,
    private readonly clock: Clock,
    idleSeconds: number,
  ) {
    this.keepMs = (idleSeconds * 1000) / 10;
  }

  async resolve(req: FastifyRequest): Promise<Resolved> {
    const found = tokenOf(req);
    if (!found) return { kind: 'none' };
    const { token, via } = found;
    const version = await this.accounts.credentialsVersion();
    const k = this.known.get(token);
    if (k && k.version === version && this.clock.now() < k.until) {
      req.userName = k.user.username;
      return { kind: 'ok', auth: { object: k.object, user: k.user, token, via } };
    }
    if (k) this.known.delete(token);
    const r = await this.objects.resume(token);
    if (r.kind === 'redirect') return { kind: 'redirect', location: `${r.url}${req.url}` };
    if (r.kind === 'invalid') return { kind: 'none' };
    const user = await this.accounts.userById(r.object.userId);
    if (!user) return { kind: 'none' };
    if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
    this.known.set(token, { object: r.object, user, version, until: this.clock.now() + this.keepMs });
    req.userName = user.username;
    return { kind: 'ok', auth: { object: r.object, user, token, via } };
  }
}

export function sendRedirect(reply: FastifyReply, status: 303 | 307, location: string): FastifyReply {
  return reply.header('cache-control', 'no-store').redirect(location, status);
}

export function checkCsrf(object: SessionObject, given: unknown): void {
  const a = Buffer.from(object.csrf);
  const b = Buffer.from(typeof given === 'string' ? given : '');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new AppError('WEB_CSRF_FAILED', 'the form is stale or forged; reload the page and try again');
}
