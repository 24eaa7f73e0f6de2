/**
 * Message figures (issue 17), each beside a reference measured in the same run.
 *
 * 1. ingest: durable messages/s through PresenceService.postMessage (ack after
 *    the group commit, synchronous=FULL, 1,000 in flight), beside a raw
 *    batched insert of the same rows (message + delivery row, batches of
 *    2,000, the same SQLite settings on the same schema) with no platform
 *    around it. The same on PostgreSQL when a server can start (a private one,
 *    as the tests start). Bounded: 200,000 messages or 8 s each.
 * 2. delivery: the platform as its own process; 2,000 WebSockets (1,000
 *    pairs in 1,000 sessions); senders post at 10,000 messages/s; latency from
 *    the send to the recipient's socket. Reference: a bare `ws` relay process
 *    at the same rate over the same number of connections. Bounded: 1 s warm-up
 *    and 5 s measured per server, each followed by at most 5 s for stragglers.
 * 3. memory: RSS of the platform process with 10,000 idle WebSockets,
 *    beside the same process's RSS with none. Bounded: 10,000 sockets, 60 s
 *    to open them.
 *
 * Arguments: [ingest] [delivery] [memory] (default: all); --rate=N, --connections=N.
 * PHONEIM_BENCH_PROF_DIR=/some/dir: the platform process writes its CPU profiles there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { openDb } from '../../src/store/sqlite/db.js';
import { startPostgres } from '../support/postgres.js';
import { report, stats } from './report.js';
import {
  INGEST_MAX,
  INGEST_MS,
  pairsIn,
  platformIngest,
  preparePairs,
  type ServerProcess,
  startBareRelay,
  startServer,
} from './server-process.js';

const BENCH = 'messages';
const RAW_BATCH = 2_000;
const arg = (name: string, d: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : d;
};
const RATE = arg('rate', 10_000);
const CONNECTIONS = arg('connections', 2_000);
const IDLE_SOCKETS = arg('idle', 10_000);
const RATE_SECONDS = 5;
const WARM_SECONDS = 1;
const sections = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const wants = (s: string) => sections.length === 0 || sections.includes(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Microseconds of CPU (user and system, every thread of this process) since `from`. */
const cpuMicros = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};

async function ingestSqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
  const svc = buildServices({ config, log: silentLogger() });
  let rate = 0;
  let platformCpu = 0;
  let sessions: { id: string; from: number; to: number }[] = [];
  try {
    sessions = await pairsIn(svc, 50);
    const { cache } = svc.presence as unknown as { cache: { warm(): void; stats: { messages: number } } };
    cache.warm();
    const stored = cache.stats.messages;
    const cpu0 = process.cpuUsage();
    rate = await platformIngest(svc, sessions);
    platformCpu = cpuMicros(cpu0) / (cache.stats.messages - stored);
    await svc.presence.stop();
  } finally {
    await svc.store.close();
  }
  // The same rows into the same file (same schema, WAL, synchronous=FULL), batches in one transaction each.
  const db = openDb({ path: join(dir, 'phoneim.sqlite') });
  let raw = 0;
  let rawCpu = 0;
  try {
    db.pragma('synchronous = FULL');
    const msg = db.prepare(
      `INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at, client_message_id)
       VALUES (?, ?, 'text', ?, NULL, NULL, 'raw', ?, NULL)`,
    );
    const del = db.prepare(
      "INSERT INTO deliveries (message_id, recipient_id, state, updated_at) VALUES (?, ?, 'pending', ?)",
    );
    let n = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const batch = db.transaction((from: number) => {
      for (let i = 0; i < RAW_BATCH; i++) {
        const s = sessions[(from + i) % sessions.length] as { id: string; from: number; to: number };
        const now = Date.now();
        const id = msg.run(s.id, s.from, `message number ${from + i}`, now).lastInsertRowid;
        del.run(id, s.to, now);
      }
    });
    while (n < INGEST_MAX && performance.now() - start < INGEST_MS) {
      batch(n);
      n += RAW_BATCH;
    }
    raw = n / ((performance.now() - start) / 1000);
    rawCpu = cpuMicros(cpu0) / n;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // CPU time is steadier than a rate on a shared machine: what each message cost, whoever else ran meanwhile.
  console.log(
    `  SQLite ingest CPU per message (every thread): platform ${platformCpu.toFixed(1)} µs, raw insert ${rawCpu.toFixed(1)} µs`,
  );
  report({
    bench: BENCH,
    what: 'SQLite: durable ingest (postMessage, ack after group commit, 1,000 in flight)',
    value: rate,
    unit: 'messages/s',
    reference: { what: `raw batched insert of the same rows, ${RAW_BATCH} a transaction`, value: raw },
    goal: { text: '>= 50% of reference', met: rate >= 0.5 * raw },
  });
}

async function ingestPostgres(): Promise<void> {
  const server = await startPostgres();
  if ('unavailable' in server) {
    console.log(`  PostgreSQL not available (${server.unavailable}): no PostgreSQL ingest figure`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-pg-'));
  try {
    const url = await server.createDatabase();
    const { openPostgresStore } = await import('../../src/store/postgres/index.js');
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        log: { level: 'silent' },
        store: { kind: 'postgres', postgres: { url, poolSize: 4 } },
      },
    });
    const store = await openPostgresStore({ url, nodeId: config.presence.nodeId, poolSize: 4 });
    const svc = buildServices({ config, log: silentLogger(), store });
    let rate = 0;
    let sessions: { id: string; from: number; to: number }[] = [];
    try {
      sessions = await pairsIn(svc, 50);
      (svc.presence as unknown as { cache: { warm(): void } }).cache.warm();
      rate = await platformIngest(svc, sessions);
      await svc.presence.stop();
    } finally {
      await svc.store.close();
    }
    // The same rows into the same database: one multi-row INSERT of messages and one of deliveries per batch.
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => {}); // the server stopping under an idle connection
    let n = 0;
    const start = performance.now();
    try {
      while (n < INGEST_MAX && performance.now() - start < INGEST_MS) {
        const rows = Array.from(
          { length: RAW_BATCH },
          (_, i) => sessions[(n + i) % sessions.length] as { id: string; from: number; to: number },
        );
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          const now = Date.now();
          const ids = await c.query<{ id: string }>(
            `INSERT INTO messages (session_id, from_user_id, kind, text, node_id, created_at)
             SELECT s, f, 'text', t, 'raw', $4 FROM unnest($1::text[], $2::int[], $3::text[]) AS x(s, f, t)
             RETURNING id`,
            [rows.map((r) => r.id), rows.map((r) => r.from), rows.map((_, i) => `message number ${n + i}`), now],
          );
          await c.query(
            `INSERT INTO deliveries (message_id, recipient_id, state, updated_at)
             SELECT m, r, 'pending', $3 FROM unnest($1::bigint[], $2::int[]) AS x(m, r)`,
            [ids.rows.map((r) => r.id), rows.map((r) => r.to), now],
          );
          await c.query('COMMIT');
        } finally {
          c.release();
        }
        n += RAW_BATCH;
      }
    } finally {
      await pool.end();
    }
    const raw = n / ((performance.now() - start) / 1000);
    report({
      bench: BENCH,
      what: 'PostgreSQL: durable ingest (postMessage, ack after group commit, 1,000 in flight)',
      value: rate,
      unit: 'messages/s',
      reference: { what: `raw batched insert of the same rows, ${RAW_BATCH} a transaction`, value: raw },
      goal: { text: '>= 50% of reference', met: rate >= 0.5 * raw },
    });
    console.log('  (a private test server: fsync and synchronous_commit off on both sides)');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loopback source addresses, so that many sockets to one port never run out of ports. */
const sourceOf = (i: number) => `127.0.0.${1 + (i % 16)}`;

/**
 * Opens the sockets of `pairs` pairs (sender, receiver) with `urlOf`, sends at
 * RATE over the senders, and returns the send-to-receive latencies of the
 * measured seconds (after WARM_SECONDS of warm-up at the same rate).
 */
async function deliveryRun(
  pairs: number,
  urlOf: (pair: number, role: 0 | 1) => string,
  frameOf: (pair: number, text: string) => string,
  serverCpu: () => number,
): Promise<{ latencies: number[]; offered: number; errors: number; connectSeconds: number; cpuSeconds: number }> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let errors = 0;
  const sockets: WebSocket[] = [];
  const senders: WebSocket[] = [];
  const open = (pair: number, role: 0 | 1) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(urlOf(pair, role), { perMessageDeflate: false, localAddress: sourceOf(pair) });
      ws.on('open', () => resolve(ws));
      ws.on('error', reject);
      ws.on('message', (d) => {
        const raw = String(d);
        // Senders only count errors: their acks need no parsing (keeps the client's share of the CPU down).
        if (role === 0) {
          if (raw.startsWith('{"type":"error"')) errors++;
          return;
        }
        const f = JSON.parse(raw) as { type: string; text?: string; message?: { text: string } };
        if (f.type === 'error') errors++;
        const text = f.type === 'message' ? f.message?.text : f.type === 'send' ? f.text : undefined;
        if (text === undefined) return;
        const t0 = sentAt.get(text);
        if (t0 !== undefined) {
          latencies.push(performance.now() - t0);
          sentAt.delete(text);
        }
      });
    });
  const t0 = performance.now();
  try {
    for (let i = 0; i < pairs && performance.now() - t0 < 60_000; i += 50) {
      const chunk = Array.from({ length: Math.min(50, pairs - i) }, (_, k) => i + k);
      const opened = await Promise.all(chunk.flatMap((p) => [open(p, 0), open(p, 1)]));
      for (let k = 0; k < opened.length; k++) {
        sockets.push(opened[k] as WebSocket);
        if (k % 2 === 0) senders.push(opened[k] as WebSocket);
      }
    }
    const connectSeconds = (performance.now() - t0) / 1000;
    // Fixed rate: every 5 ms what is due, round-robin over the senders.
    const run = (seconds: number, first: number) =>
      new Promise<number>((resolve) => {
        const count = RATE * seconds;
        const begin = performance.now();
        let n = 0;
        const tick = () => {
          const due = Math.min(count, Math.floor(((performance.now() - begin) / 1000) * RATE) + RATE / 200);
          while (n < due) {
            const i = (first + n) % senders.length;
            const text = `m${first + n}`;
            sentAt.set(text, performance.now());
            (senders[i] as WebSocket).send(frameOf(i, text));
            n++;
          }
          if (n >= count) resolve(count);
          else setTimeout(tick, 5);
        };
        tick();
      });
    const warm = await run(WARM_SECONDS, 0);
    const warmEnd = performance.now() + 5_000;
    while (latencies.length < warm && performance.now() < warmEnd) await sleep(20);
    latencies.length = 0;
    sentAt.clear();
    errors = 0;
    const cpu0 = serverCpu();
    const offered = await run(RATE_SECONDS, warm);
    const end = performance.now() + 5_000;
    while (latencies.length < offered && performance.now() < end) await sleep(20);
    return { latencies: [...latencies], offered, errors, connectSeconds, cpuSeconds: serverCpu() - cpu0 };
  } finally {
    for (const s of sockets) s.terminate();
  }
}

async function delivery(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-delivery-'));
  const pairCount = CONNECTIONS / 2;
  const { pairs } = await preparePairs(dir, pairCount);
  let server: ServerProcess | undefined;
  let bare: ServerProcess | undefined;
  try {
    // A benchmark of the delivery path, not of the per-user post limit.
    server = await startServer(dir, { PHONEIM_HTTP__POSTS_PER_USER: '100000' });
    const wsBase = `${server.url.replace(/^http/, 'ws')}/api/v1/ws?replay=false&token=`;
    const platform = await deliveryRun(
      pairCount,
      (p, role) => wsBase + encodeURIComponent(pairs[p]?.tokens[role] as string),
      (p, text) => JSON.stringify({ type: 'send', sessionId: pairs[p]?.session, text }),
      () => (server as ServerProcess).cpuSeconds(),
    );
    await server.stop();
    server = undefined;
    bare = await startBareRelay();
    const bareBase = `${bare.url.replace(/^http/, 'ws')}/`;
    const plain = await deliveryRun(
      pairCount,
      (p, role) => `${bareBase}?pair=${p}&role=${role === 0 ? 's' : 'r'}`,
      (p, text) => JSON.stringify({ type: 'send', sessionId: pairs[p]?.session, text }),
      () => (bare as ServerProcess).cpuSeconds(),
    );
    const a = stats(platform.latencies);
    const b = stats(plain.latencies);
    console.log(
      `  platform: ${a.n} of ${platform.offered} delivered (errors ${platform.errors}), p50 ${a.p50.toFixed(2)} ms, max ${a.max.toFixed(1)} ms, connected in ${platform.connectSeconds.toFixed(1)} s; bare relay: ${b.n} of ${plain.offered}, p50 ${b.p50.toFixed(2)} ms`,
    );
    report({
      bench: BENCH,
      what: `delivery p99, ${RATE.toLocaleString('en-GB')}/s over ${CONNECTIONS.toLocaleString('en-GB')} WebSockets`,
      value: a.n === platform.offered ? a.p99 : Number.POSITIVE_INFINITY,
      unit: 'ms',
      reference: { what: 'bare ws relay, same rate and connections', value: b.p99 },
      goal: { text: '<= 10 ms, every message delivered', met: a.n === platform.offered && a.p99 <= 10 },
    });
    // CPU time is steadier than latency on a shared machine: what each delivered message cost the server process.
    report({
      bench: BENCH,
      what: 'server CPU per delivered message (every thread)',
      value: (platform.cpuSeconds * 1e6) / Math.max(1, a.n),
      unit: 'µs',
      reference: { what: 'bare ws relay', value: (plain.cpuSeconds * 1e6) / Math.max(1, b.n) },
    });
    report({
      bench: BENCH,
      what: 'delivered in the measured seconds',
      value: a.n,
      unit: 'messages',
      reference: { what: 'bare ws relay', value: b.n },
      goal: { text: `all ${platform.offered} offered`, met: a.n === platform.offered },
    });
  } finally {
    await server?.stop();
    await bare?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function memory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const perUser = 10;
  const { pairs, extra } = await preparePairs(dir, Math.ceil(IDLE_SOCKETS / (2 * perUser)), perUser);
  const tokens = [...pairs.flatMap((p) => p.tokens), ...extra].slice(0, IDLE_SOCKETS);
  const server = await startServer(dir, { PHONEIM_HTTP__MAX_WEB_SOCKETS_PER_USER: String(perUser * 2) });
  const sockets: WebSocket[] = [];
  try {
    const wsBase = `${server.url.replace(/^http/, 'ws')}/api/v1/ws?replay=false&token=`;
    const open = (i: number) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsBase + encodeURIComponent(tokens[i] as string), {
          perMessageDeflate: false,
          localAddress: sourceOf(i),
        });
        const timer = setTimeout(() => reject(new Error('no hello in 15 s')), 15_000);
        ws.once('message', () => {
          clearTimeout(timer);
          resolve(ws); // the hello: the link is open
        });
        ws.on('error', reject);
      });
    // One socket opened and closed first, so the baseline has the WebSocket code loaded and warm.
    (await open(0)).close();
    await sleep(2_000);
    const before = server.rss();
    const t0 = performance.now();
    for (let i = 0; i < tokens.length && performance.now() - t0 < 60_000; i += 100) {
      const chunk = Array.from({ length: Math.min(100, tokens.length - i) }, (_, k) => i + k);
      sockets.push(...(await Promise.all(chunk.map(open))));
    }
    await sleep(3_000);
    const after = server.rss();
    const per = (after - before) / sockets.length;
    console.log(
      `  ${sockets.length} idle WebSockets open in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS ${(before / 2 ** 20).toFixed(1)} MiB with none, ${(after / 2 ** 20).toFixed(1)} MiB with them`,
    );
    report({
      bench: BENCH,
      what: `RSS per idle WebSocket (${sockets.length.toLocaleString('en-GB')} open)`,
      value: per / 1024,
      unit: 'kB',
      goal: { text: '<= 20 kB', met: sockets.length === IDLE_SOCKETS && per <= 20 * 1024 },
    });
    report({
      bench: BENCH,
      what: `server RSS with ${sockets.length.toLocaleString('en-GB')} idle WebSockets`,
      value: after / 2 ** 20,
      unit: 'MiB',
      reference: { what: 'the same process with none', value: before / 2 ** 20 },
    });
  } finally {
    for (const s of sockets) s.terminate();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other work on the machine shows in these figures)`,
);
if (wants('ingest')) {
  await ingestSqlite();
  await ingestPostgres();
}
if (wants('delivery')) await delivery();
if (wants('memory')) await memory();
