/**
 * A community of 1, 2 and 3 nodes on one PostgreSQL, and 1 node on SQLite
 * beside them, measured the same way: PAIRS senders and PAIRS recipients, all
 * web users on WebSockets, sender i on node i mod N and its recipient on the
 * next node (so with several nodes every message crosses nodes over
 * LISTEN/NOTIFY). Each sender keeps WINDOW messages in flight; a message
 * counts as durable when its ack comes (the ack follows the commit). Latency
 * is from the send to the recipient's socket receiving it.
 *
 * The nodes run in this process (each its own Platform, store connections,
 * HTTP listener and node feed) on loopback: the figures compare the stores
 * and the cross-node path, not the cost of more processes on 2 cores.
 * Bounded: per configuration at most MAX_MESSAGES or MEASURE_MS of sending,
 * then at most 5 s for stragglers. Uses DATABASE_URL when set (a database it
 * may fill with users), or starts a private server like the tests.
 *
 *   node dist/test/bench/nodes.bench.js      (make bench)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/index.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { percentile, report } from './report.js';

const PAIRS = 24;
const WINDOW = 4;
const MAX_MESSAGES = 20_000;
const MEASURE_MS = 4_000;
const STRAGGLE_MS = 5_000;
const PASSWORD = 'bench password';

const pct = (sorted: number[], p: number) => percentile(sorted, p).toFixed(1);

let server: TestPostgres | undefined;
async function postgresUrl(): Promise<string | undefined> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (!server) {
    const s = await startPostgres();
    if ('unavailable' in s) {
      console.log(`nodes.bench: PostgreSQL not available: ${s.unavailable}; only SQLite measured`);
      return undefined;
    }
    server = s;
  }
  return server.createDatabase();
}

async function login(base: string, username: string): Promise<string> {
  const r = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (r.status !== 201) throw new Error(`login ${username}: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

function connect(base: string, token: string, onFrame: (f: Record<string, unknown>) => void): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`);
  ws.on('message', (d) => onFrame(JSON.parse(String(d)) as Record<string, unknown>));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function measure(
  kind: 'sqlite' | 'postgres',
  nodes: number,
): Promise<{ durable: number; p99: number } | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nodes-'));
  const url = kind === 'postgres' ? await postgresUrl() : undefined;
  if (kind === 'postgres' && !url) return;
  const platforms: Platform[] = [];
  const sockets: WebSocket[] = [];
  try {
    for (let n = 1; n <= nodes; n++) {
      const config = loadConfig({
        env: {},
        overrides: {
          dataDir: dir,
          log: { level: 'silent' },
          http: { port: 0, maxWebSocketsPerUser: 4, loginsPerAddress: 100_000, postsPerUser: 100_000 },
          accounts: { kdfCost: 1024 },
          presence: { nodeId: `node-${n}` },
          telephony: { ari: { app: `phoneim-node-${n}` } },
          ...(url ? { store: { kind: 'postgres', postgres: { url, poolSize: 8 } } } : {}),
        },
      });
      const platform = new Platform({ config, log: silentLogger(), store: await openStore(config) });
      platforms.push(platform);
    }
    const urls: string[] = [];
    for (const p of platforms) urls.push(await p.start());
    const svc = (platforms[0] as Platform).services;
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    const pairs: { sessionId: string; from: string; to: string; fromNode: number; toNode: number }[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = await svc.accounts.createUser({ username: `s${i}`, displayName: `S ${i}`, password: PASSWORD });
      const b = await svc.accounts.createUser({ username: `r${i}`, displayName: `R ${i}`, password: PASSWORD });
      await svc.presence.requestContact(a.id, b.id);
      await svc.presence.approveContact(b.id, a.id);
      const s = await svc.presence.createSession(a.id, [b.id]);
      await svc.presence.accept(s.id, b.id);
      pairs.push({ sessionId: s.id, from: `s${i}`, to: `r${i}`, fromNode: i % nodes, toNode: (i + 1) % nodes });
    }
    let received = 0;
    const senders: { ws: WebSocket; sessionId: string; acks: Map<number, () => void> }[] = [];
    for (const pair of pairs) {
      const toUrl = urls[pair.toNode] as string;
      const fromUrl = urls[pair.fromNode] as string;
      // Log in on the node that is to hold the user's session object.
      sockets.push(
        await connect(toUrl, await login(toUrl, pair.to), (f) => {
          if (f.type !== 'message') return;
          const at = sent.get((f.message as { text: string }).text);
          if (at !== undefined) {
            latencies.push(performance.now() - at);
            received++;
          }
        }),
      );
      const acks = new Map<number, () => void>();
      const ws = await connect(fromUrl, await login(fromUrl, pair.from), (f) => {
        if (f.type === 'ack' || f.type === 'error') acks.get(f.ref as number)?.();
      });
      sockets.push(ws);
      senders.push({ ws, sessionId: pair.sessionId, acks });
    }

    let next = 0;
    let acked = 0;
    let ref = 0;
    const start = performance.now();
    const lane = async (s: (typeof senders)[number]) => {
      while (next < MAX_MESSAGES && performance.now() - start < MEASURE_MS) {
        const text = `m${next++}`;
        const r = ++ref;
        const done = new Promise<void>((resolve) => s.acks.set(r, resolve));
        sent.set(text, performance.now());
        s.ws.send(JSON.stringify({ type: 'send', sessionId: s.sessionId, text, ref: r }));
        await done;
        s.acks.delete(r);
        acked++;
      }
    };
    await Promise.all(senders.flatMap((s) => Array.from({ length: WINDOW }, () => lane(s))));
    const elapsed = (performance.now() - start) / 1000;
    const until = performance.now() + STRAGGLE_MS;
    while (received < acked && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    const sorted = latencies.sort((x, y) => x - y);
    console.log(
      `nodes.bench: store=${kind.padEnd(8)} nodes=${nodes} durable=${Math.round(acked / elapsed)}/s ` +
        `(${acked} in ${elapsed.toFixed(1)} s) delivery p50=${pct(sorted, 0.5)} ms p99=${pct(sorted, 0.99)} ms ` +
        `received=${received} missing=${acked - received}`,
    );
    return { durable: acked / elapsed, p99: percentile(sorted, 0.99) };
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const p of platforms) await p.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const sqlite = await measure('sqlite', 1);
  for (const n of [1, 2, 3]) {
    const pg = await measure('postgres', n);
    if (!pg || !sqlite) break;
    const on = `PostgreSQL, ${n} node${n > 1 ? 's' : ''}`;
    report({
      bench: 'nodes',
      what: `${on}: durable messages/s`,
      value: pg.durable,
      unit: '/s',
      reference: { what: 'SQLite, 1 node', value: sqlite.durable },
    });
    report({
      bench: 'nodes',
      what: `${on}: delivery p99`,
      value: pg.p99,
      unit: 'ms',
      reference: { what: 'SQLite, 1 node', value: sqlite.p99 },
    });
  }
} finally {
  await server?.stop();
}
