/**
 * Ingest through the public API, as clients post (issue 17): 1,000 clients
 * (500 sessions of two), each with its own connection, each posting one
 * message at a time with a clientMessageId and waiting for the answer, which
 * comes only after the message is stored durably.
 *
 * 1. HTTP: POST /api/v1/sessions/:id/messages (undici, one connection a client).
 * 2. WebSocket: {type:"send"} frames, each awaiting its ack.
 * Every client keeps its WebSocket open through both, so each message has a
 * recipient online (it is delivered, not handed to the notifier's ladder).
 *
 * References measured in the same run: Prosody's client-to-client message
 * rate (@xmpp/client users on loopback in pairs, each sending to its peer
 * with up to 10 messages on the way, counted as the peer receives them), and
 * the internal ingest rate (PresenceService.postMessage, 1,000 in flight).
 * The platform runs as its own process (its real entry point), on SQLite.
 * Bounded: 8 s or 100,000 posts per path; Prosody 100 clients, 8 s or 100,000 messages.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import WebSocket from 'ws';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Prosody } from '../support/prosody.js';
import { XmppUser } from '../support/xmpp.js';
import { report } from './report.js';
import { pairsIn, platformIngest, preparePairs, startServer } from './server-process.js';

const BENCH = 'api-ingest';
const CLIENTS = 1_000;
const MAX_POSTS = 100_000;
const RUN_MS = 8_000;
const XMPP_CLIENTS = 100;
const XMPP_WINDOW = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU time a process has used so far (all its threads, user and system), in
 * ms, from Linux's /proc (clock ticks of 10 ms): per post, it shows what the
 * platform spends on each, which other work on the machine does not change
 * as much as it changes the rates.
 */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Each client posts one at a time until the shared bound; returns answered posts/s and failures. */
async function closedLoop(
  clients: number,
  post: (client: number, n: number) => Promise<boolean>,
): Promise<{ rate: number; failed: number; ok: number }> {
  let n = 0;
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (n < MAX_POSTS && performance.now() - start < RUN_MS) {
        if (await post(c, n++)) ok++;
        else failed++;
      }
    }),
  );
  return { rate: ok / ((performance.now() - start) / 1000), failed, ok };
}

async function internalRate(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-internal-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
  const svc = buildServices({ config, log: silentLogger() });
  try {
    const sessions = await pairsIn(svc, 50);
    const rate = await platformIngest(svc, sessions);
    await svc.presence.stop();
    return rate;
  } finally {
    await svc.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function prosodyRate(): Promise<number | undefined> {
  const names = Array.from({ length: XMPP_CLIENTS }, (_, i) => `u${i}`);
  const prosody = await Prosody.start({ users: names });
  if (!(prosody instanceof Prosody)) {
    console.log(`  Prosody skipped: ${prosody.skip}`);
    return undefined;
  }
  const users: XmppUser[] = [];
  try {
    for (let i = 0; i < names.length; i += 20)
      users.push(...(await Promise.all(names.slice(i, i + 20).map((n) => XmppUser.connect(prosody, n)))));
    // Received counts per sender; each sender keeps at most XMPP_WINDOW messages on the way.
    const sent = new Array<number>(users.length).fill(0);
    const got = new Array<number>(users.length).fill(0);
    const wake = new Array<(() => void) | undefined>(users.length);
    users.forEach((u, i) => {
      const peer = i ^ 1;
      u.stanzas.length = 0;
      u.xmpp.on('stanza', (s: XmppUser['stanzas'][number]) => {
        // Only chat messages: an available resource gets them (a client without presence would not).
        if (s.name !== 'message' || s.attrs.type === 'error') return;
        got[peer] = (got[peer] ?? 0) + 1;
        wake[peer]?.();
      });
    });
    let total = 0;
    const start = performance.now();
    await Promise.all(
      users.map(async (u, i) => {
        const to = (users[i ^ 1] as XmppUser).jid;
        while (total < MAX_POSTS && performance.now() - start < RUN_MS) {
          if ((sent[i] ?? 0) - (got[i] ?? 0) >= XMPP_WINDOW) {
            await Promise.race([new Promise<void>((r) => (wake[i] = r)), sleep(100)]);
            continue;
          }
          sent[i] = (sent[i] ?? 0) + 1;
          total++;
          await u.chat(to, `message ${total}`).catch(() => {});
        }
      }),
    );
    const end = performance.now() + 5_000;
    const delivered = () => got.reduce((a, b) => a + b, 0);
    while (delivered() < total && performance.now() < end) await sleep(20);
    const seconds = (performance.now() - start) / 1000;
    console.log(`  Prosody: ${delivered()} of ${total} messages received by ${users.length} clients`);
    return delivered() / seconds;
  } finally {
    for (const u of users) {
      u.xmpp.removeAllListeners('stanza');
      u.xmpp.on('error', () => {}); // Prosody's own shutdown notice to a client still closing
    }
    await Promise.all(users.map((u) => u.stop()));
    await prosody.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other work on the machine shows in these figures)`,
  );
  const internal = await internalRate();
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const { pairs } = await preparePairs(dir, CLIENTS / 2);
  const server = await startServer(
    dir,
    { PHONEIM_HTTP__POSTS_PER_USER: '100000' },
    process.argv.includes('--prof') ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof-api'] : [],
  );
  const clients: Client[] = [];
  const sockets: WebSocket[] = [];
  let http = { rate: 0, failed: 0, cpuUs: Number.NaN };
  let ws = { rate: 0, failed: 0, cpuUs: Number.NaN };
  const cpu = () => cpuMsOf(server.child.pid);
  /** The loop's figures, with the platform's CPU time per answered post (µs). */
  const measured = async (loop: () => Promise<{ rate: number; failed: number; ok: number }>) => {
    const before = cpu();
    const r = await loop();
    return { rate: r.rate, failed: r.failed, cpuUs: ((cpu() - before) * 1000) / r.ok };
  };
  try {
    const tokenOf = (c: number) => pairs[c >> 1]?.tokens[c & 1] as string;
    const sessionOf = (c: number) => pairs[c >> 1]?.session as string;
    const wsBase = `${server.url.replace(/^http/, 'ws')}/api/v1/ws?replay=false&token=`;
    // The clients share the machine's cores with the platform: each does as little as a client can (bodies
    // and headers made once, answers told apart by their first bytes, one watchdog timer for every post).
    const waiting = new Map<WebSocket, { done: (ok: boolean) => void; since: number }>();
    const ACK = Buffer.from('{"type":"ack"');
    const ERROR = Buffer.from('{"type":"error"');
    const startsWith = (d: Buffer, prefix: Buffer) =>
      d.length >= prefix.length && prefix.compare(d, 0, prefix.length) === 0;
    const open = (c: number) =>
      new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(wsBase + encodeURIComponent(tokenOf(c)), {
          perMessageDeflate: false,
          localAddress: `127.0.0.${1 + (c % 16)}`,
        });
        const timer = setTimeout(() => reject(new Error('no hello in 15 s')), 15_000);
        s.once('message', () => {
          clearTimeout(timer);
          resolve(s); // the hello
        });
        s.on('error', reject);
        s.on('message', (d: Buffer) => {
          const isAck = startsWith(d, ACK);
          if (!isAck && !startsWith(d, ERROR)) return; // messages from the peer
          const w = waiting.get(s);
          waiting.delete(s);
          w?.done(isAck);
        });
      });
    for (let c = 0; c < CLIENTS; c += 100)
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, CLIENTS - c) }, (_, k) => open(c + k)))));
    const statuses = new Map<number, number>();
    let firstRefusal: string | undefined;
    for (let c = 0; c < CLIENTS; c++)
      clients.push(new Client(server.url, { pipelining: 1, headersTimeout: 15_000, bodyTimeout: 15_000 }));
    // Each client's connection is open before the clock starts, as the WebSockets are: 1,000 connecting at once
    // overflow the listen queue, and the kernel's SYN retries (1 s, 3 s, ...) would be measured, not posting.
    for (let c = 0; c < CLIENTS; c += 100)
      await Promise.all(
        clients.slice(c, c + 100).map(async (client) => {
          const r = await client.request({ method: 'GET', path: '/health' });
          await r.body.dump();
        }),
      );
    const paths = Array.from({ length: CLIENTS }, (_, c) => `/api/v1/sessions/${sessionOf(c)}/messages`);
    const headers = Array.from({ length: CLIENTS }, (_, c) => ({
      authorization: `Bearer ${tokenOf(c)}`,
      'content-type': 'application/json',
    }));
    http = await measured(() =>
      closedLoop(CLIENTS, async (c, n) => {
        const r = await (clients[c] as Client).request({
          method: 'POST',
          path: paths[c] as string,
          headers: headers[c],
          // What JSON.stringify({text: `http ${n}`, clientMessageId: `h${n}`}) makes.
          body: `{"text":"http ${n}","clientMessageId":"h${n}"}`,
        });
        if (r.statusCode !== 201 && firstRefusal === undefined) firstRefusal = await r.body.text();
        else await r.body.dump();
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        return r.statusCode === 201;
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
    console.log(
      `  HTTP answers: ${[...statuses].map(([k, v]) => `${v} x ${k}`).join(', ')}${firstRefusal ? `; first refusal: ${firstRefusal.slice(0, 200)}` : ''}`,
    );

    // A post unanswered for 10 s counts as failed.
    const watchdog = setInterval(() => {
      const late = performance.now() - 10_000;
      for (const [s, w] of waiting)
        if (w.since < late) {
          waiting.delete(s);
          w.done(false);
        }
    }, 500);
    const frames = Array.from(
      { length: CLIENTS },
      (_, c) => `{"type":"send","sessionId":"${sessionOf(c)}","text":"ws `,
    );
    try {
      ws = await measured(() =>
        closedLoop(
          CLIENTS,
          (c, n) =>
            new Promise<boolean>((resolve) => {
              const s = sockets[c] as WebSocket;
              waiting.set(s, { done: resolve, since: performance.now() });
              // What JSON.stringify({type: 'send', sessionId, text: `ws ${n}`, clientMessageId: `w${n}`}) makes.
              s.send(`${frames[c]}${n}","clientMessageId":"w${n}"}`);
            }),
        ),
      );
    } finally {
      clearInterval(watchdog);
    }
  } finally {
    for (const s of sockets) s.terminate();
    await Promise.all(clients.map((c) => c.destroy()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `  HTTP ${Math.round(http.rate)} posts/s (${http.failed} failed), WebSocket ${Math.round(ws.rate)} posts/s (${ws.failed} failed)`,
  );
  // What the platform's process (its main thread, the message writer's and the rest) spends per answered post.
  console.log(`  platform CPU per post: HTTP ${Math.round(http.cpuUs)} µs, WebSocket ${Math.round(ws.cpuUs)} µs`);
  const prosody = process.argv.includes('--no-prosody') ? undefined : await prosodyRate();
  for (const [what, r] of [
    ['HTTP posts', http.rate],
    ['WebSocket posts', ws.rate],
  ] as const)
    report({
      bench: BENCH,
      what: `${what} from ${CLIENTS.toLocaleString('en-GB')} clients (durable before the answer, clientMessageId)`,
      value: r,
      unit: 'messages/s',
      ...(prosody === undefined
        ? {}
        : {
            reference: { what: `Prosody client-to-client, ${XMPP_CLIENTS} clients`, value: prosody },
            goal: { text: '>= 5x reference', met: prosody > 0 && r >= 5 * prosody },
          }),
    });
  report({
    bench: BENCH,
    what: 'WebSocket posts beside the internal ingest rate',
    value: ws.rate,
    unit: 'messages/s',
    reference: { what: 'PresenceService.postMessage, 1,000 in flight', value: internal },
    goal: { text: '>= 25% of reference', met: ws.rate >= 0.25 * internal },
  });
}

await main();
