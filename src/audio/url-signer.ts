/**
 * Signed, expiring media URLs. Asterisk fetches without credentials, so the
 * URL itself is the credential: /audio/<id>/<expires>/<signature>.<ext>, the
 * signature an HMAC-SHA256 over id, format and expiry. Everything sits in the
 * path (Asterisk takes the format from the extension and needs a long URL).
 *
 * Expiry is rounded up to a quarter of the lifetime, so the same audio keeps
 * the same URL for a while and Asterisk's media cache (keyed by URL) hits:
 * a URL lives between the configured lifetime and 1.25 times it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../core/errors.js';

export type AudioFormat = 'wav' | 'mp3' | 'ogg';
export const FORMATS: readonly AudioFormat[] = ['wav', 'mp3', 'ogg'];

export const AUDIO_ID = /^[0-9a-f]{32}$/;
const PATH_RE = /^([0-9a-f]{32})\/(\d{10,13})\/([A-Za-z0-9_-]{43})\.(wav|mp3|ogg)$/;

export interface SignedPath {
  id: string;
  format: AudioFormat;
  expiresAt: number;
}

/** The URL secret from config, or the one kept in the data directory (made on first use, mode 0600). */
export function loadUrlSecret(configured: string | undefined, file: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length >= 32) return Buffer.from(text, 'utf8');
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return Buffer.from(secret, 'utf8');
}

const MAX_SIGNED_PATHS = 10_000;

export class UrlSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlSeconds: number,
  ) {}

  private mac(id: string, format: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`${id}.${format}.${expires}`).digest('base64url');
  }

  /** Paths signed for the current expiry step: the same audio asked for again costs no HMAC. */
  private signed = { expires: '', paths: new Map<string, string>() };

  /** The signed path (without the origin) for an audio id and format, valid from `now`. */
  sign(id: string, format: AudioFormat, now: number): string {
    const step = Math.max(1, Math.floor(this.ttlSeconds / 4));
    const expires = String(Math.ceil((Math.floor(now / 1000) + this.ttlSeconds) / step) * step);
    if (this.signed.expires !== expires || this.signed.paths.size >= MAX_SIGNED_PATHS)
      this.signed = { expires, paths: new Map() };
    const key = `${id}.${format}`;
    let path = this.signed.paths.get(key);
    if (path === undefined) {
      path = `/audio/${id}/${expires}/${this.mac(id, format, expires)}.${format}`;
      this.signed.paths.set(key, path);
    }
    return path;
  }

  /**
   * Checks a request path below /audio/. Anything not shaped like a signed
   * path is AUDIO_NOT_FOUND (404); a wrong signature AUDIO_URL_INVALID and an
   * old one AUDIO_URL_EXPIRED (both 403).
   */
  verify(rest: string, now: number): SignedPath {
    const m = PATH_RE.exec(rest);
    if (!m) throw new AppError('AUDIO_NOT_FOUND', 'no such audio');
    const [, id, expires, sig, format] = m as unknown as [string, string, string, string, AudioFormat];
    const want = Buffer.from(this.mac(id, format, expires));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got))
      throw new AppError('AUDIO_URL_INVALID', 'the media URL signature does not match');
    const expiresAt = Number(expires) * 1000;
    if (expiresAt <= now) throw new AppError('AUDIO_URL_EXPIRED', 'the media URL has expired');
    return { id, format, expiresAt };
  }
}
