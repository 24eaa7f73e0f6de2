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

export async function resolveAuth(
  req: FastifyRequest,
  objects: SessionObjects,
  accounts: AccountService,
): Promise<Resolved> {
  const found = tokenOf(req);
  if (!found) return { kind: 'none' };
  const { token, via } = found;
  const r = await objects.resume(token);
  if (r.kind === 'redirect') return { kind: 'redirect', location: `${r.url}${req.url}` };
  if (r.kind === 'invalid') return { kind: 'none' };
  const user = await accounts.userById(r.object.userId);
  if (!user) return { kind: 'none' };
  req.userName = user.username;
  return { kind: 'ok', auth: { object: r.object, user, token, via } };
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
