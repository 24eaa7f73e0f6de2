/** Scaffolding for presence and web tests: a running platform, users, and clients that speak its protocols. */
import WebSocket from 'ws';
import type { Test } from 'tap';
import { Platform } from '../../src/app.js';
import type { Clock } from '../../src/core/clock.js';
import { type Logger, silentLogger } from '../../src/core/logger.js';
import { testConfig } from './env.js';
import { openTestStore, testStoreOverrides } from './store-backend.js';

export const PASSWORD = 'correct horse';

export async function startPlatform(
  t: Test,
  opts: {
    dir?: string;
    overrides?: Record<string, unknown>;
    clock?: Clock;
    stopOnTeardown?: boolean;
    log?: Logger;
  } = {},
): Promise<{ platform: Platform; url: string }> {
  const dir = opts.dir ?? t.testdir({});
  // PHONEIM_TEST_STORE=postgres: the same flow on PostgreSQL (store-backend.ts).
  const onStore = await testStoreOverrides(dir);
  const config = testConfig(dir, { ...onStore, ...(opts.overrides ?? {}) });
  const store = await openTestStore(config);
  const platform = new Platform({
    config,
    log: opts.log ?? silentLogger(),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(store ? { store } : {}),
  });
  if (opts.stopOnTeardown !== false) t.teardown(() => platform.stop());
  const url = await platform.start();
  return { platform, url };
}

export async function makeUsers<N extends string>(platform: Platform, names: N[]): Promise<Record<N, number>> {
  const out = {} as Record<N, number>;
  for (const n of names) {
    const u = await platform.services.accounts.createUser({
      username: n,
      displayName: n[0]?.toUpperCase() + n.slice(1),
      password: PASSWORD,
    });
    out[n] = u.id;
  }
  return out;
}

/** Makes every pair of the given users approved contacts. */
export async function befriend(platform: Platform, ids: number[]): Promise<void> {
  const p = platform.services.presence;
  for (const a of ids)
    for (const b of ids)
      if (a < b && !(await p.isContact(a, b)) && (await p.requestContact(a, b)) === 'requested')
        await p.approveContact(b, a);
}

/** A JSON API client that logs in with username and password. */
export class ApiClient {
  token = '';
  constructor(readonly base: string) {}

  static async login(base: string, username: string, password = PASSWORD): Promise<ApiClient> {
    const c = new ApiClient(base);
    const r = await c.call('POST', '/api/v1/login', { username, password });
    if (r.status !== 201) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    c.token = (r.body as { token: string }).token;
    return c;
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    opts: { raw?: string; redirect?: 'manual' | 'follow' } = {},
  ): Promise<{ status: number; body: unknown; location: string | null }> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      redirect: opts.redirect ?? 'manual',
      ...(opts.raw !== undefined ? { body: opts.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, location: res.headers.get('location') };
  }
}

export interface Frame {
  type: string;
  [k: string]: unknown;
}

/** A WebSocket client that keeps every frame it receives and can wait for one. */
export class WsClient {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private ref = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
  }

  static async connect(base: string, token: string, opts: { followRedirects?: boolean } = {}): Promise<WsClient> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`, {
      followRedirects: opts.followRedirects ?? false,
    });
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await c.next((f) => f.type === 'hello');
    return c;
  }

  /**
   * Resolves with the first frame (already received or coming) that matches. The wait is long (30 s): a
   * loaded machine starts a platform's writer threads under the TypeScript loader in seconds each.
   */
  next(pred: (f: Frame) => boolean, timeoutMs = 30_000): Promise<Frame> {
    const have = this.frames.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  messages(): { id: string; text: string | null; sessionId: string }[] {
    return this.frames
      .filter((f) => f.type === 'message')
      .map((f) => f.message as { id: string; text: string | null; sessionId: string });
  }

  async waitMessages(n: number): Promise<{ id: string; text: string | null; sessionId: string }[]> {
    const deadline = Date.now() + 30_000;
    while (this.messages().length < n) {
      if (Date.now() > deadline) throw new Error(`timed out: ${this.messages().length} of ${n} messages`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages();
  }

  request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = ++this.ref;
    this.ws.send(JSON.stringify({ ...frame, ref }));
    return this.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Polls until `fn` is true (state that settles asynchronously on the server). */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A browser without JavaScript, made of fetch: a cookie jar, forms with their CSRF field, 303s followed. */
export class HtmlClient {
  cookie = '';
  page = '';
  status = 0;
  url = '';
  constructor(
    readonly base: string,
    readonly accept = 'text/html',
  ) {}

  async get(path: string): Promise<string> {
    return this.request('GET', path);
  }

  /** Posts a form; `csrf` comes from the current page unless given. */
  async post(path: string, fields: Record<string, string>, opts: { csrf?: string | null } = {}): Promise<string> {
    const csrf = opts.csrf === undefined ? this.csrf() : opts.csrf;
    const body = new URLSearchParams({ ...fields, ...(csrf === null ? {} : { csrf }) }).toString();
    return this.request('POST', path, body);
  }

  csrf(): string {
    const m = /name="csrf" value="([^"]+)"/.exec(this.page);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1] as string;
  }

  async login(username: string, password = PASSWORD): Promise<string> {
    await this.get('/login');
    return this.post('/login', { username, password });
  }

  private async request(method: string, path: string, body?: string): Promise<string> {
    let target = path;
    let m = method;
    let b = body;
    for (let hops = 0; hops < 5; hops++) {
      const headers: Record<string, string> = { accept: this.accept };
      if (this.cookie) headers.cookie = this.cookie;
      if (b !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(new URL(target, this.base), {
        method: m,
        headers,
        redirect: 'manual',
        ...(b !== undefined ? { body: b } : {}),
      });
      const set = res.headers.get('set-cookie');
      if (set) {
        const pair = set.split(';')[0] as string;
        this.cookie = pair.endsWith('=') ? '' : pair;
      }
      this.status = res.status;
      this.url = new URL(target, this.base).toString();
      this.page = await res.text();
      if (res.status === 303) {
        target = res.headers.get('location') as string;
        m = 'GET';
        b = undefined;
        continue;
      }
      return this.page;
    }
    throw new Error('too many redirects');
  }
}
