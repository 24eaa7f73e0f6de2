/**
 * An SNPP client (RFC 1861, level 1): one TCP connection per page.
 *
 *   S: 220 SNPP Gateway Ready
 *   C: PAGE <pager id>     S: 250 ...
 *   C: MESS <text>         S: 250 ...
 *   C: SEND                S: 250 ... (860/960 for two-way servers)
 *   C: QUIT                S: 221 ...
 *
 * Replies are "NNN text" lines (a dash after the code continues the reply).
 * 2xx and 8xx/9xx (two-way "queued") are success; 4xx is "try later"; 5xx
 * is refusal. The pager id and the text are single lines of ASCII: nothing a
 * user typed can add a command. A server that answers anything else is a
 * protocol error, never a success.
 */
import { connect, type Socket } from 'node:net';
import { oneLine, toAscii } from './compose.js';
import type { DeliveryResult } from './ports.js';

export interface SnppOptions {
  host: string;
  port: number;
  timeoutMs: number;
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

  private push(line: string | null): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  next(): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift() as string | null);
    return new Promise((r) => this.waiting.push(r));
  }
}

class SnppError extends Error {
  constructor(readonly result: DeliveryResult & { status: 'retry' | 'failed' }) {
    super(result.detail);
  }
}

const retry = (detail: string) => new SnppError({ status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail });

export async function sendSnppPage(o: SnppOptions, pagerId: string, text: string): Promise<DeliveryResult> {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(pagerId))
    return { status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail: `bad pager id "${oneLine(pagerId, 40)}"` };
  const mess = toAscii(oneLine(text, 1000)) || '(empty)';
  const socket = connect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  const reader = new LineReader(socket);
  let connectError: Error | undefined;
  socket.on('error', (e) => {
    connectError = e;
  });
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);

  const reply = async (what: string): Promise<{ code: number; text: string }> => {
    for (;;) {
      const line = await reader.next();
      if (line === null)
        throw retry(`snpp: connection closed ${what}${connectError ? `: ${connectError.message}` : ''}`);
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
  };
  const expect = async (what: string, ok: (code: number) => boolean) => {
    const r = await reply(what);
    if (ok(r.code)) return r;
    const detail = `snpp: ${what}: ${oneLine(r.text, 200)}`;
    if (r.code >= 400 && r.code < 500) throw retry(detail);
    if (r.code >= 500 && r.code < 600) throw new SnppError({ status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail });
    throw new SnppError({ status: 'failed', code: 'NOTIFY_SNPP_PROTOCOL', detail: `${detail} (unexpected code)` });
  };
  const command = (line: string) => {
    socket.write(`${line}\r\n`);
  };
  const is2xx = (c: number) => c >= 200 && c < 300;
  // Once SEND is on the wire, a lost reply means "maybe sent": never retried, so a page is not sent twice.
  let sendWritten = false;

  try {
    await expect('on connect', (c) => c === 220);
    command(`PAGE ${pagerId}`);
    await expect(`after PAGE ${pagerId}`, is2xx);
    command(`MESS ${mess}`);
    await expect('after MESS', is2xx);
    command('SEND');
    sendWritten = true;
    const sent = await expect('after SEND', (c) => is2xx(c) || c === 860 || c === 960);
    command('QUIT');
    await reply('after QUIT').catch(() => undefined);
    return { status: 'delivered', detail: `snpp: ${oneLine(sent.text, 200)}` };
  } catch (e) {
    const result: DeliveryResult & { status: 'retry' | 'failed' } =
      e instanceof SnppError
        ? e.result
        : { status: 'retry', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: `snpp: ${oneLine(String(e), 200)}` };
    if (sendWritten && result.status === 'retry')
      return { ...result, status: 'failed', detail: `${result.detail} (after SEND: may have been sent, not retried)` };
    return result;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
