/**
 * How the simulator finds out what a media URI sounds like, the way Asterisk
 * does: `sound:<name>` from the sounds directory, `sound:http(s)://...`
 * through a media cache that really fetches the URL, `recording:<name>` from
 * the stored recordings, and `digits:`/`number:`/`characters:`/`tone:`.
 *
 * Rules copied from what a real Asterisk 22 does (shared/asterisk-samples):
 * - the format of a fetched file comes from its Content-Type, then from the
 *   URL's extension; `.wav` must be 8 kHz 16-bit mono PCM, `.wav16` (or
 *   Content-Type `audio/x-wav;codec=pcm;bit=16;rate=16000`) 16 kHz; anything
 *   else in a WAV (44.1 kHz, stereo, 8-bit) fails; no extension with
 *   application/octet-stream fails;
 * - a URL shorter than about 28 characters is downloaded, then fails (the
 *   cache file name Asterisk builds overflows a buffer sized from the URL);
 * - without Cache-Control max-age or Expires the file is fetched on every
 *   play; with them it is reused until it expires.
 * A failure is a value (the playback then ends in state `failed`), never a throw.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fetch } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { parseWav } from './wav.js';

export type MediaResult = { ok: true; durationMs: number } | { ok: false; reason: string };

/** Formats Asterisk knows by extension, with the bytes one second takes (null: a WAV container). */
const RAW_BYTES_PER_SECOND: Record<string, number | null> = {
  wav: null,
  wav16: null,
  sln: 16000,
  sln16: 32000,
  ulaw: 8000,
  alaw: 8000,
  pcm: 8000,
  gsm: 1650,
};
const SOUND_EXTENSIONS = ['wav16', 'wav', 'sln16', 'sln', 'ulaw', 'alaw', 'gsm'];
const MIN_URL_CHARS = 30;

const MIME_FORMATS: Record<string, string> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/basic': 'ulaw',
  'audio/x-gsm': 'gsm',
  'audio/gsm': 'gsm',
};

interface CacheEntry {
  body: Buffer;
  format: string | null;
  expiresAt: number;
}

export interface MediaResolverOptions {
  soundsDir: string;
  clock: Clock;
  log: Logger;
  /** The duration of a stored recording, when one of that name exists. */
  recordingDurationMs: (name: string) => number | undefined;
  fetchTimeoutMs?: number;
}

export class MediaResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly soundCache = new Map<string, { mtimeMs: number; result: MediaResult }>();
  /** How many times each URL was fetched over HTTP (tests read it to see the cache work). */
  readonly fetchCounts = new Map<string, number>();

  constructor(private readonly opts: MediaResolverOptions) {}

  async resolve(uri: string, language = 'en'): Promise<MediaResult> {
    const colon = uri.indexOf(':');
    if (colon < 0) return { ok: false, reason: `no scheme in media URI ${uri}` };
    const scheme = uri.slice(0, colon);
    const rest = uri.slice(colon + 1);
    switch (scheme) {
      case 'sound':
        return /^https?:\/\//i.test(rest) ? this.http(rest) : this.sound(rest, language);
      case 'recording': {
        const ms = this.opts.recordingDurationMs(rest);
        return ms === undefined
          ? { ok: false, reason: `recording ${rest} does not exist` }
          : { ok: true, durationMs: ms };
      }
      case 'digits':
      case 'characters':
        return rest.length > 0 ? { ok: true, durationMs: 600 * rest.length } : { ok: false, reason: 'nothing to say' };
      case 'number':
        return /^-?\d+$/.test(rest)
          ? { ok: true, durationMs: 700 * Math.max(1, Math.ceil(rest.replace('-', '').length * 1.5)) }
          : { ok: false, reason: 'not a number' };
      case 'tone': {
        // An indication tone plays until it is stopped, unless given a duration.
        const m = /;duration=(\d+)/.exec(rest);
        return { ok: true, durationMs: m ? Number(m[1]) : Number.POSITIVE_INFINITY };
      }
      default:
        return { ok: false, reason: `unsupported media scheme ${scheme}` };
    }
  }

  /**
   * The bytes of a WAV that a browser can play for a media URI (the dev
   * phone): `sound:http(s)://` fetched again, `sound:<name>` from the sounds
   * directory. Undefined for what has no such file (digits, tones, raw formats).
   */
  async listenable(uri: string, language = 'en'): Promise<Buffer | undefined> {
    if (/^sound:https?:\/\//i.test(uri)) {
      const url = uri.slice('sound:'.length);
      const cached = this.cache.get(url);
      if (cached) return cached.body;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.fetchTimeoutMs ?? 10_000) });
        return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
      } catch {
        return undefined;
      }
    }
    const name = uri.startsWith('sound:') ? uri.slice('sound:'.length) : '';
    if (name === '' || name.includes('..') || name.startsWith('/') || name.includes('\\')) return undefined;
    const root = resolve(this.opts.soundsDir);
    for (const dir of [join(root, language), root]) {
      const path = join(dir, `${name}.wav`);
      if (!path.startsWith(root + sep)) continue;
      try {
        return await readFile(path);
      } catch {
        // not in this directory
      }
    }
    return undefined;
  }

  private async sound(name: string, language: string): Promise<MediaResult> {
    if (name === '' || name.includes('..') || name.startsWith('/') || name.includes('\\'))
      return { ok: false, reason: `bad sound name ${name}` };
    const root = resolve(this.opts.soundsDir);
    for (const dir of [join(root, language), root]) {
      for (const ext of SOUND_EXTENSIONS) {
        const path = join(dir, `${name}.${ext}`);
        if (!path.startsWith(root + sep)) continue;
        let mtimeMs: number;
        try {
          mtimeMs = (await stat(path)).mtimeMs;
        } catch {
          continue;
        }
        const cached = this.soundCache.get(path);
        if (cached && cached.mtimeMs === mtimeMs) return cached.result;
        const result = measure(await readFile(path), ext);
        this.soundCache.set(path, { mtimeMs, result });
        return result;
      }
    }
    return { ok: false, reason: `File ${name} does not exist in any format` };
  }

  private async http(url: string): Promise<MediaResult> {
    const now = this.opts.clock.now();
    let entry = this.cache.get(url);
    if (!entry || entry.expiresAt <= now) {
      this.cache.delete(url);
      this.fetchCounts.set(url, (this.fetchCounts.get(url) ?? 0) + 1);
      let res: Awaited<ReturnType<typeof fetch>>;
      let body: Buffer;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(this.opts.fetchTimeoutMs ?? 10_000) });
        body = Buffer.from(await res.arrayBuffer());
      } catch (e) {
        this.opts.log.warn({ url, err: (e as Error).message }, 'media fetch failed');
        return { ok: false, reason: `could not fetch ${url}` };
      }
      if (res.status !== 200) {
        this.opts.log.warn({ url, status: res.status }, 'media fetch failed');
        return { ok: false, reason: `fetching ${url} returned ${res.status}` };
      }
      entry = { body, format: formatOf(res.headers.get('content-type'), url), expiresAt: expiry(res.headers, now) };
      if (entry.expiresAt > now) this.cache.set(url, entry);
    }
    if (url.length < MIN_URL_CHARS) return { ok: false, reason: `File ${url} does not exist in any format` };
    if (!entry.format) return { ok: false, reason: `no format known for ${url}` };
    return measure(entry.body, entry.format);
  }
}

function formatOf(contentType: string | null, url: string): string | null {
  if (contentType) {
    const [mime = '', ...params] = contentType
      .toLowerCase()
      .split(';')
      .map((s) => s.trim());
    const base = MIME_FORMATS[mime];
    if (base === 'wav' && params.includes('rate=16000')) return 'wav16';
    if (base) return base;
  }
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return null;
  const ext = path.slice(dot + 1).toLowerCase();
  return ext in RAW_BYTES_PER_SECOND ? ext : null;
}

function expiry(headers: { get(name: string): string | null }, now: number): number {
  const cc = headers.get('cache-control') ?? '';
  if (/no-cache|no-store/i.test(cc)) return now;
  const m = /max-age=(\d+)/i.exec(cc);
  if (m) return now + Number(m[1]) * 1000;
  const expires = headers.get('expires');
  const at = expires ? Date.parse(expires) : Number.NaN;
  return Number.isNaN(at) ? now : at;
}

/** The duration of audio in one of Asterisk's formats, or why Asterisk would refuse it. */
export function measure(body: Buffer, format: string): MediaResult {
  const rate = RAW_BYTES_PER_SECOND[format];
  if (rate === undefined) return { ok: false, reason: `unknown format ${format}` };
  if (rate !== null) return { ok: true, durationMs: Math.round((body.length * 1000) / rate) };
  const info = parseWav(body);
  const want = format === 'wav16' ? 16000 : 8000;
  if (!info) return { ok: false, reason: 'not a WAV file' };
  if (info.audioFormat !== 1 || info.bitsPerSample !== 16 || info.channels !== 1)
    return { ok: false, reason: 'WAV is not 16-bit mono PCM' };
  if (info.sampleRate !== want)
    return { ok: false, reason: `Unexpected frequency mismatch ${info.sampleRate} (expecting ${want})` };
  return { ok: true, durationMs: info.durationMs };
}
