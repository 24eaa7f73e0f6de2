/**
 * Message cache and routing figures.
 *
 * 1. Durable ingest: messages/s through PresenceService.postMessage, each
 *    acknowledged only after its group commit (synchronous=FULL), with many
 *    messages in flight. Bounded: at most 200,000 messages or 8 seconds.
 * 2. Delivery latency: a server process (the real entry point) on loopback,
 *    1,000 WebSocket connections (500 pairs in 500 sessions); senders post
 *    over their sockets at a fixed rate and the latency is from the send to
 *    the recipient's socket receiving it. Bounded: one second of warm-up and
 *    five measured seconds at the rate, each followed by at most 5 seconds
 *    for stragglers.
 *
 * Goals (issue 5): >= 10,000 durable messages/s on 2 cores; p99 < 15 ms at 5,000/s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { buildServices } from '../../src/app.js';
import { loadConfig, processEnvironment } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { sqliteOf } from '../support/store.js';

const INGEST_MAX = 200_000;
const INGEST_MS = 8_000;
const IN_FLIGHT = 1_000;
const CONNECTIONS = 1_000;
const RATE = /^\d+$/.test(process.argv[2] ?? '') ? Number(process.argv[2]) : 5_000;
const RATE_SECONDS = 5;
const WARM_SECONDS = 1;

const pct = (sorted: number[], p: number) =>
  (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN).toFixed(2);

async function ingest(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
  const svc = buildServices({ config, log: silentLogger() });
  try {
    const sessions: { id: string; from: number }[] = [];
    for (let i = 0; i < 50; i++) {
      const a = await svc.accounts.createUser({ username: `a${i}`, displayName: `A ${i}` });
      const b = await svc.accounts.createUser({ username: `b${i}`, displayName: `B ${i}` });
      await svc.presence.requestContact(a.id, b.id);
      await svc.presence.approveContact(b.id, a.id);
      const s = await svc.presence.createSession(a.id, [b.id]);
      await svc.presence.accept(s.id, b.id);
      sessions.push({ id: s.id, from: a.id });
    }
    let sent = 0;
    let acked = 0;
    const start = performance.now();
    const worker = async () => {
      while (sent < INGEST_MAX && performance.now() - start < INGEST_MS) {
        const s = sessions[sent++ % sessions.length] as { id: string; from: number };
        await svc.presence.postMessage({ sessionId: s.id, fromUserId: s.from, text: `message number ${sent}` });
        acked++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - start) / 1000;
    const stats = (svc.presence as unknown as { cache: { stats: { batches: number; largestBatch: number } } }).cache
      .stats;
    const stored = (sqliteOf(svc.store).prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    console.log(
      `durable ingest (PresenceService.postMessage, ack after commit, synchronous=FULL, ${IN_FLIGHT} in flight)`,
    );
    console.log(`  acknowledged: ${acked} in ${seconds.toFixed(2)} s (stored: ${stored})`);
    console.log(`  throughput:   ${Math.round(acked / seconds)} durable messages/s`);
    console.log(
      `  commits:      ${stats.batches} (${(acked / stats.batches).toFixed(1)} messages per commit, largest ${stats.largestBatch})`,
    );
    await svc.presence.stop();
  } finally {
    await svc.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latency(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  // A benchmark of the delivery path, not of the per-user post limit.
  const config = loadConfig({
    env: {},
    overrides: { dataDir: dir, log: { level: 'silent' }, http: { postsPerUser: 100_000 } },
  });
  const svc = buildServices({ config, log: silentLogger() });
  const pairs: { session: string; tokens: [string, string] }[] = [];
  for (let i = 0; i < CONNECTIONS / 2; i++) {
    const a = await svc.accounts.createUser({ username: `s${i}`, displayName: `S ${i}` });
    const b = await svc.accounts.createUser({ username: `r${i}`, displayName: `R ${i}` });
    await svc.presence.requestContact(a.id, b.id);
    await svc.presence.approveContact(b.id, a.id);
    const s = await svc.presence.createSession(a.id, [b.id]);
    await svc.presence.accept(s.id, b.id);
    pairs.push({
      session: s.id,
      tokens: [
        (await svc.presence.objects.create(a.id, 'bench')).token,
        (await svc.presence.objects.create(b.id, 'bench')).token,
      ],
    });
  }
  await svc.presence.stop();
  await svc.store.close();

  // The server runs as its own process, started by its real entry point.
  const here = fileURLToPath(import.meta.url);
  const entry = here.endsWith('.ts') ? join(here, '../../../src/main.ts') : join(here, '../../../src/main.js');
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      ...(process.argv.includes('--prof') ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
      entry,
    ],
    {
      env: {
        ...processEnvironment(),
        PHONEIM_DATA_DIR: dir,
        PHONEIM_HTTP__PORT: '0',
        PHONEIM_LOG__LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const sockets: WebSocket[] = [];
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the server did not start in 20 s')), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+) /.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
    const wsBase = `${url.replace(/^http/, 'ws')}/api/v1/ws?replay=false&token=`;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let errors = 0;
    const open = (token: string, isReceiver: boolean) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsBase + encodeURIComponent(token), { perMessageDeflate: false });
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
        ws.on('message', (d) => {
          const raw = String(d);
          // Senders only count errors: their acks need no parsing (keeps the client's share of the CPU down).
          if (!isReceiver) {
            if (raw.startsWith('{"type":"error"')) errors++;
            return;
          }
          const f = JSON.parse(raw) as { type: string; message?: { text: string } };
          if (f.type === 'error') errors++;
          if (f.type !== 'message' || !f.message) return;
          const t0 = sentAt.get(f.message.text);
          if (t0 !== undefined) {
            latencies.push(performance.now() - t0);
            sentAt.delete(f.message.text);
          }
        });
      });
    const t0 = performance.now();
    const senders: WebSocket[] = [];
    for (let i = 0; i < pairs.length; i += 50) {
      const chunk = pairs.slice(i, i + 50);
      const opened = await Promise.all(chunk.flatMap((p) => [open(p.tokens[0], false), open(p.tokens[1], true)]));
      for (let k = 0; k < opened.length; k++) {
        sockets.push(opened[k] as WebSocket);
        if (k % 2 === 0) senders.push(opened[k] as WebSocket);
      }
    }
    console.log(
      `delivery latency (server process on loopback, ${sockets.length} WebSocket connections, ${pairs.length} sessions)`,
    );
    console.log(`  connected in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

    // Fixed rate: every 5 ms, RATE/200 messages, round-robin over the senders. The first
    // WARM_SECONDS warm the server up (JIT, caches) and are not counted.
    const run = (seconds: number, first: number) =>
      new Promise<number>((resolve) => {
        const count = RATE * seconds;
        const begin = performance.now();
        let n = 0;
        const tick = () => {
          const due = Math.min(count, Math.floor(((performance.now() - begin) / 1000) * RATE) + perTick);
          while (n < due) {
            const i = (first + n) % senders.length;
            const text = `m${first + n}`;
            sentAt.set(text, performance.now());
            (senders[i] as WebSocket).send(JSON.stringify({ type: 'send', sessionId: pairs[i]?.session, text }));
            n++;
          }
          if (n >= count) resolve(count);
          else setTimeout(tick, 5);
        };
        tick();
      });
    const perTick = RATE / 200;
    const warm = await run(WARM_SECONDS, 0);
    const warmDeadline = performance.now() + 5_000;
    while (latencies.length < warm && performance.now() < warmDeadline) await new Promise((r) => setTimeout(r, 20));
    latencies.length = 0;
    sentAt.clear();
    const total = RATE * RATE_SECONDS;
    const start = performance.now();
    await run(RATE_SECONDS, warm);
    const sendSeconds = (performance.now() - start) / 1000;
    const deadline = performance.now() + 5_000;
    while (latencies.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    latencies.sort((a, b) => a - b);
    console.log(
      `  offered:      ${total} messages at ${RATE}/s (sent in ${sendSeconds.toFixed(2)} s, after ${WARM_SECONDS} s of warm-up at the same rate)`,
    );
    console.log(`  delivered:    ${latencies.length} (errors: ${errors})`);
    console.log(
      `  latency:      p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms, max ${pct(latencies, 1)} ms`,
    );
  } finally {
    for (const s of sockets) s.terminate();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Arguments: [rate per second] [--no-ingest] [--prof (CPU profile of the server into /tmp/prof)].
console.log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other work on the machine shows in these figures)`,
);
if (!process.argv.includes('--no-ingest')) await ingest();
await latency();
