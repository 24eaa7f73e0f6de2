/**
 * Reply links: the link in an alert email that logs its recipient straight
 * into the IM session the message belongs to, from any browser, until it
 * expires.
 *
 * Token format (URL-safe, no padding):
 *   v1.<payload>.<signature>
 *   payload   = base64url(JSON {"u": userId, "s": sessionId, "a": alertId, "e": expiresAtMs, "n": nonce})
 *   signature = base64url(HMAC-SHA256(secret, "v1." + payload))
 * The web server mounts REPLY_LINK_PATH, reads the `t` query parameter, calls
 * verifyReplyToken and, when it holds, opens a web link for `userId` in
 * `sessionId` (which tells the notifier the recipient is active). A link is
 * good for one log-in: the web server claims its `nonce` (ReplyLinkUses) and
 * refuses a second use.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError, err, ok, type Result } from '../core/errors.js';

export const REPLY_LINK_PATH = '/reply';

export type { ReplyLinkUses } from './ports.js';
const VERSION = 'v1';

export interface ReplyClaims {
  userId: number;
  sessionId: string;
  alertId: string;
  expiresAt: number;
  nonce: string;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest();

export function signReplyToken(secret: string, claims: Omit<ReplyClaims, 'nonce'> & { nonce?: string }): string {
  const payload = b64(
    JSON.stringify({
      u: claims.userId,
      s: claims.sessionId,
      a: claims.alertId,
      e: claims.expiresAt,
      n: claims.nonce ?? randomBytes(9).toString('base64url'),
    }),
  );
  const body = `${VERSION}.${payload}`;
  return `${body}.${b64(sign(secret, body))}`;
}

/** Checks a token's form, signature and expiry (at `now`); never throws on bad input. */
export function verifyReplyToken(secret: string, token: unknown, now: number): Result<ReplyClaims> {
  const invalid = (why: string) => err(new AppError('NOTIFY_LINK_INVALID', `the reply link is not valid: ${why}`));
  if (typeof token !== 'string' || token.length > 2048) return invalid('malformed');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return invalid('malformed');
  const [, payload, signature] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) return invalid('malformed');
  const expected = sign(secret, `${VERSION}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('bad signature');
  let c: { u?: unknown; s?: unknown; a?: unknown; e?: unknown; n?: unknown };
  try {
    c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof c;
  } catch {
    return invalid('malformed');
  }
  if (
    !Number.isSafeInteger(c.u) ||
    typeof c.s !== 'string' ||
    typeof c.a !== 'string' ||
    !Number.isSafeInteger(c.e) ||
    typeof c.n !== 'string'
  )
    return invalid('malformed');
  if ((c.e as number) <= now)
    return err(new AppError('NOTIFY_LINK_EXPIRED', 'the reply link has expired; sign in to reply'));
  return ok({ userId: c.u as number, sessionId: c.s, alertId: c.a, expiresAt: c.e as number, nonce: c.n });
}

export function replyLinkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${REPLY_LINK_PATH}?t=${encodeURIComponent(token)}`;
}

/** The configured secret, or one generated once and kept (mode 0600) in the data directory. */
export function replyLinkSecret(config: { dataDir: string; notify: { linkSecret?: string | undefined } }): string {
  if (config.notify.linkSecret) return config.notify.linkSecret;
  const dir = resolve(config.dataDir);
  const file = join(dir, 'reply-link.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    // Another process wrote it first: use theirs.
    return readFileSync(file, 'utf8').trim();
  }
  return secret;
}
