/**
 * Who is asking: the session object a request names by its token (a bearer
 * header for API clients, a cookie for browsers, `s=` in the URL for WAP
 * phones that keep no cookies), and where it is served. A request that
 * reached the wrong node is answered with 307 to the node that holds the
 * session object, same path and query (307 keeps the method and body).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
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

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k && !(k in out)) {
      try {
        out[k] = decodeURIComponent(v);
      } catch {
        out[k] = v;
      }
    }
  }
  return out;
}

/** The token a request carries, in order of precedence: bearer header, `s` query parameter, cookie. */
export function tokenOf(
  req: IncomingMessage,
  url: URL,
): { token: string; via: 'bearer' | 'query' | 'cookie' } | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return { token: h.slice(7).trim(), via: 'bearer' };
  const q = url.searchParams.get('s') ?? url.searchParams.get('token');
  if (q) return { token: q, via: 'query' };
  const c = parseCookies(req.headers.cookie)[COOKIE];
  return c ? { token: c, via: 'cookie' } : undefined;
}

export type Resolved = { kind: 'ok'; auth: WebAuth } | { kind: 'redirect'; location: string } | { kind: 'none' };

export function resolveAuth(
  req: IncomingMessage,
  url: URL,
  objects: SessionObjects,
  accounts: AccountService,
): Resolved {
  const found = tokenOf(req, url);
  if (!found) return { kind: 'none' };
  const { token, via } = found;
  const r = objects.resume(token);
  if (r.kind === 'redirect') return { kind: 'redirect', location: `${r.url}${url.pathname}${url.search}` };
  if (r.kind === 'invalid') return { kind: 'none' };
  const user = accounts.userById(r.object.userId);
  if (!user) return { kind: 'none' };
  return { kind: 'ok', auth: { object: r.object, user, token, via } };
}

export function sendRedirect(res: ServerResponse, status: 303 | 307, location: string): void {
  res.writeHead(status, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

export function checkCsrf(object: SessionObject, given: unknown): void {
  const a = Buffer.from(object.csrf);
  const b = Buffer.from(typeof given === 'string' ? given : '');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new AppError('WEB_CSRF_FAILED', 'the form is stale or forged; reload the page and try again');
}
