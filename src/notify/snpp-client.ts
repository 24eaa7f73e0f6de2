/**
 * An SNPP client (RFC 1861, level 1) over a small pool of kept-open
 * connections, each carrying one page after another:
 *
 *   S: 220 SNPP Gateway Ready
 *   C: PAGE <pager id>     S: 250 ...
 *   C: MESS <text>         S: 250 ...
 *   C: SEND                S: 250 ... (860/960 for two-way servers)
 *   ... the next page on the same connection: PAGE, MESS, SEND ...
 *   C: RESE                S: 250 ...   (after a refusal: a clean slate)
 *   C: QUIT                S: 221 ...   (when idle too long, or on close)
 *
 * Replies are "NNN text" lines (a dash after the code continues the reply).
 * 2xx and 8xx/9xx (two-way "queued") are success; 4xx is "try later"; 5xx
 * is refusal. The pager id and the text are single lines of ASCII: nothing a
 * user typed can add a command. A server that answers anything else is a
 * protocol error, never a success.
 *
 * Rules of the pool:
 * - At most `maxConnections` connections; a page waits for a free one.
 * - After a refusal or "try later" the connection is reset (RESE) before it
 *   carries another page; if the reset is not answered 250, it is closed.
 *   A protocol error or a timeout closes it.
 * - A connection the server closed (or said anything on) while idle is
 *   dropped, never used. If a reused connection turns out closed before SEND
 *   was written, the page goes again on a new connection (nothing was sent);
 *   once SEND is on the wire, a lost reply means "maybe sent": never retried.
 * - An idle connection is closed (QUIT) after `idleMs`, and never keeps the
 *   process alive.
 */
import { connect, type Socket } from 'node:net';
import { oneLine, toAscii } from './compose.js';
import type { DeliveryResult } from './ports.js';

export interface SnppOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Connections kept open at once (default 1). */
  maxConnections?: number;
  /** An idle connection is closed after this long (default 30 s). */
  idleMs?: number;
}

class LineReader {
  private buffer = '';
  private readonly waiting: ((line: string | null) => void)[] = [];
  private readonly lines: (string | null)[] = [];

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      if (this.buffer.length > 64 * 1024) {
        socket.destroy();
        return;
      }
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        this.push(this.buffer.slice(0, i).replace(/\r$/, ''));
        this.buffer = this.buffer.slice(i + 1);
      }
    });
    socket.on('close', () => this.push(null));
  }

  /** Told (once) of a line or the close when nobody waits for one: an idle connection going away. */
  onUnread: (() => void) | undefined;

  private push(line: string | null): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else {
      this.lines.push(line);
      const f = this.onUnread;
      this.onUnread = undefined;
      f?.();
    }
  }

  /** Whether the server said something (or closed) that nobody asked for yet. */
  get hasUnread(): boolean {
    return this.lines.length > 0 || this.buffer.length > 0;
  }

  next(): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift() as string | null);
    return new Promise((r) => this.waiting.push(r));
  }
}

class SnppError extends Error {
  constructor(
    readonly result: DeliveryResult & { status: 'retry' | 'failed' },
    /** The server closed the connection (or said goodbye, 421) instead of answering. */
    readonly connectionLost = false,
  ) {
    super(result.detail);
  }
}

const retry = (detail: string, connectionLost = false) =>
  new SnppError({ status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail }, connectionLost);

/** One connection to the server, greeted, carrying one page at a time. */
class Session {
  readonly reader: LineReader;
  /** Pages this connection carried (0: new). */
  uses = 0;
  error: Error | undefined;
  timedOut = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.reader = new LineReader(socket);
    socket.on('error', (e) => {
      this.error = e;
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && !this.reader.hasUnread;
  }

  /** Calls `fn` once when the server next says something nobody asked for, or closes. */
  onUnread(fn: () => void): void {
    this.reader.onUnread = fn;
  }

  /** Bounds the server's answers: no answer within `ms` closes the connection. */
  arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.socket.destroy(new Error(`no answer within ${ms} ms`));
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  command(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async reply(what: string): Promise<{ code: number; text: string }> {
    for (;;) {
      const line = await this.reader.next();
      if (line === null)
        throw retry(`snpp: connection closed ${what}${this.error ? `: ${this.error.message}` : ''}`, true);
      const m = /^(\d{3})([ -])(.*)$/.exec(line) ?? /^(\d{3})()$/.exec(line);
      if (!m)
        throw new SnppError({
          status: 'failed',
          code: 'NOTIFY_SNPP_PROTOCOL',
          detail: `snpp: not an SNPP reply ${what}: "${oneLine(line, 80)}"`,
        });
      if (m[2] === '-') continue;
      return { code: Number(m[1]), text: line };
    }
  }

  async expect(what: string, ok: (code: number) => boolean): Promise<{ code: number; text: string }> {
    const r = await this.reply(what);
    if (ok(r.code)) return r;
    const detail = `snpp: ${what}: ${oneLine(r.text, 200)}`;
    if (r.code >= 400 && r.code < 500) throw retry(detail, r.code === 421);
    if (r.code >= 500 && r.code < 600) throw new SnppError({ status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail });
    throw new SnppError({ status: 'failed', code: 'NOTIFY_SNPP_PROTOCOL', detail: `${detail} (unexpected code)` });
  }

  destroy(): void {
    this.disarm();
    this.socket.destroy();
  }
}

const is2xx = (c: number) => c >= 200 && c < 300;

/** Pages over a few kept-open SNPP connections (see the rules above). */
export class SnppPool {
  private readonly idle: { session: Session; timer: NodeJS.Timeout }[] = [];
  /** Connections open or being opened. */
  private open = 0;
  private readonly waiting: ((s: Session | undefined) => void)[] = [];
  private closed = false;
  /** Connections opened so far (for the health view and tests). */
  connectionsOpened = 0;

  constructor(private readonly o: SnppOptions) {}

  private get max(): number {
    return Math.max(1, this.o.maxConnections ?? 1);
  }

  /** Connections open now (idle or carrying a page). */
  get connections(): number {
    return this.open;
  }

  /** Sends one page. Never throws for a delivery failure: the result says what happened. */
  async page(pagerId: string, text: string): Promise<DeliveryResult> {
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(pagerId))
      return { status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail: `bad pager id "${oneLine(pagerId, 40)}"` };
    if (this.closed) return { status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: 'snpp: the client is closed' };
    const mess = toAscii(oneLine(text, 1000)) || '(empty)';
    // A stale connection sends the page to a new one; twice stale in a row is the server's trouble.
    for (let tries = 0; tries < 2; tries++) {
      const got = await this.acquire(tries > 0);
      if ('status' in got) return got;
      const r = await this.pageOn(got, pagerId, mess);
      if (r !== 'stale') return r;
    }
    return { status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: 'snpp: the server keeps closing connections' };
  }

  /** Closes every connection (QUIT to the idle ones); pages sent later are answered "try later". */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(undefined);
    for (const { session, timer } of this.idle.splice(0)) {
      clearTimeout(timer);
      this.quit(session);
    }
  }

  /**
   * A connection for one page: an idle one still open, a new one when fewer
   * than the maximum are open, else the next one released. `fresh`: a new one.
   */
  private async acquire(fresh: boolean): Promise<Session | (DeliveryResult & { status: 'retry' })> {
    for (;;) {
      if (this.closed)
        return { status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: 'snpp: the client is closed' };
      const idle = fresh ? undefined : this.idle.pop();
      if (idle) {
        clearTimeout(idle.timer);
        if (idle.session.isOpen) return this.take(idle.session);
        this.drop(idle.session);
        continue;
      }
      if (this.open < this.max) {
        this.open++;
        return await this.connect();
      }
      const handed = await new Promise<Session | undefined>((r) => this.waiting.push(r));
      if (handed) return this.take(handed);
      // undefined: a connection was closed, so a new one may be opened (or the pool closed).
    }
  }

  private take(s: Session): Session {
    s.reader.onUnread = undefined;
    s.socket.ref();
    return s;
  }

  private async connect(): Promise<Session | (DeliveryResult & { status: 'retry' })> {
    this.connectionsOpened++;
    const s = new Session(connect({ host: this.o.host, port: this.o.port }));
    s.arm(this.o.timeoutMs);
    try {
      await s.expect('on connect', (c) => c === 220);
      s.disarm();
      return s;
    } catch (e) {
      this.drop(s);
      const r = resultOf(e);
      return r.status === 'retry' ? r : { ...r, status: 'retry' };
    }
  }

  /** One page on one connection; 'stale' when a reused connection was found closed before anything was sent. */
  private async pageOn(s: Session, pagerId: string, mess: string): Promise<DeliveryResult | 'stale'> {
    const reused = s.uses > 0;
    s.uses++;
    // Once SEND is on the wire, a lost reply means "maybe sent": never retried, so a page is not sent twice.
    let sendWritten = false;
    s.arm(this.o.timeoutMs);
    try {
      s.command(`PAGE ${pagerId}`);
      await s.expect(`after PAGE ${pagerId}`, is2xx);
      s.command(`MESS ${mess}`);
      await s.expect('after MESS', is2xx);
      s.command('SEND');
      sendWritten = true;
      const sent = await s.expect('after SEND', (c) => is2xx(c) || c === 860 || c === 960);
      s.disarm();
      this.release(s);
      return { status: 'delivered', detail: `snpp: ${oneLine(sent.text, 200)}` };
    } catch (e) {
      const result = resultOf(e);
      const connectionLost = e instanceof SnppError && e.connectionLost;
      if (reused && !sendWritten && connectionLost && !s.timedOut) {
        this.drop(s);
        return 'stale';
      }
      if (result.code === 'NOTIFY_SNPP_PROTOCOL' || connectionLost || !(e instanceof SnppError)) this.drop(s);
      else await this.reset(s);
      if (sendWritten && result.status === 'retry')
        return {
          ...result,
          status: 'failed',
          detail: `${result.detail} (after SEND: may have been sent, not retried)`,
        };
      return result;
    }
  }

  /** After a refusal: RESE, and back to the pool if the server agrees; closed otherwise. */
  private async reset(s: Session): Promise<void> {
    try {
      s.command('RESE');
      await s.expect('after RESE', is2xx);
      s.disarm();
      this.release(s);
    } catch {
      this.drop(s);
    }
  }

  private release(s: Session): void {
    if (this.closed || !s.isOpen) {
      if (this.closed) this.quit(s);
      else this.drop(s);
      return;
    }
    const w = this.waiting.shift();
    if (w) {
      w(s);
      return;
    }
    s.socket.unref();
    const leave = () => {
      const i = this.idle.findIndex((x) => x.session === s);
      if (i < 0) return false;
      clearTimeout((this.idle[i] as (typeof this.idle)[number]).timer);
      this.idle.splice(i, 1);
      return true;
    };
    const timer = setTimeout(() => {
      if (leave()) this.quit(s);
    }, this.o.idleMs ?? 30_000);
    timer.unref();
    this.idle.push({ session: s, timer });
    // The server closed it (or said goodbye) while idle: dropped at once, never used.
    s.onUnread(() => {
      if (leave()) this.drop(s);
    });
  }

  /** Says goodbye on an idle connection, without waiting for the answer. */
  private quit(s: Session): void {
    if (!s.socket.destroyed) s.socket.end('QUIT\r\n');
    s.socket.unref();
    setTimeout(() => s.destroy(), 1000).unref();
    this.forget();
  }

  private drop(s: Session): void {
    s.destroy();
    this.forget();
  }

  /** A connection is gone: a page waiting for one may open a new one. */
  private forget(): void {
    this.open--;
    this.waiting.shift()?.(undefined);
  }
}

function resultOf(e: unknown): DeliveryResult & { status: 'retry' | 'failed' } {
  return e instanceof SnppError
    ? e.result
    : { status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: `snpp: ${oneLine(String(e), 200)}` };
}

/** One page on a connection of its own, closed after it (the admin CLI's test page, and tests). */
export async function sendSnppPage(o: SnppOptions, pagerId: string, text: string): Promise<DeliveryResult> {
  const pool = new SnppPool({ ...o, maxConnections: 1 });
  try {
    return await pool.page(pagerId, text);
  } finally {
    pool.close();
  }
}
