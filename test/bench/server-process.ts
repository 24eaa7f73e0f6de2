/**
 * Bench scaffolding: a data directory with pairs of users in sessions and a
 * resume token per connection to come, and the platform started by its real
 * entry point as a process of its own (the benchmark's clients never share
 * its event loop); and peers of the same work with no platform around them
 * (a bare `ws` relay in a process of its own).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServices, type Services } from '../../src/app.js';
import { loadConfig, processEnvironment } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';

export const INGEST_MAX = 200_000;
export const INGEST_MS = 8_000;
const IN_FLIGHT = 1_000;

/** Sessions of two users; the sender and the session of each. */
export async function pairsIn(svc: Services, n: number): Promise<{ id: string; from: number; to: number }[]> {
  const out: { id: string; from: number; to: number }[] = [];
  for (let i = 0; i < n; i++) {
    const a = await svc.accounts.createUser({ username: `a${i}`, displayName: `A ${i}` });
    const b = await svc.accounts.createUser({ username: `b${i}`, displayName: `B ${i}` });
    await svc.presence.requestContact(a.id, b.id);
    await svc.presence.approveContact(b.id, a.id);
    const s = await svc.presence.createSession(a.id, [b.id]);
    await svc.presence.accept(s.id, b.id);
    out.push({ id: s.id, from: a.id, to: b.id });
  }
  return out;
}

/** postMessage with IN_FLIGHT posts in flight: acknowledged (durable) messages/s. */
export async function platformIngest(svc: Services, sessions: { id: string; from: number }[]): Promise<number> {
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
  return acked / ((performance.now() - start) / 1000);
}

export interface Pair {
  session: string;
  /** Resume tokens: the sender's, then the receiver's. */
  tokens: [string, string];
}

/**
 * `pairs` sessions of two users each, and `perUser` session objects (tokens)
 * for each user; pairs[i].tokens[k] uses the k-th user's first object, and
 * `extra` lists every other token.
 */
export async function preparePairs(
  dir: string,
  pairs: number,
  perUser = 1,
): Promise<{ pairs: Pair[]; extra: string[] }> {
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
  const svc = buildServices({ config, log: silentLogger() });
  const out: Pair[] = [];
  const extra: string[] = [];
  try {
    for (let i = 0; i < pairs; i++) {
      const a = await svc.accounts.createUser({ username: `s${i}`, displayName: `S ${i}` });
      const b = await svc.accounts.createUser({ username: `r${i}`, displayName: `R ${i}` });
      await svc.presence.requestContact(a.id, b.id);
      await svc.presence.approveContact(b.id, a.id);
      const s = await svc.presence.createSession(a.id, [b.id]);
      await svc.presence.accept(s.id, b.id);
      const tokens: string[] = [];
      for (const u of [a.id, b.id])
        for (let k = 0; k < perUser; k++) tokens.push((await svc.presence.objects.create(u, 'bench')).token);
      out.push({ session: s.id, tokens: [tokens[0] as string, tokens[perUser] as string] });
      extra.push(...tokens.filter((_, k) => k !== 0 && k !== perUser));
    }
  } finally {
    await svc.presence.stop();
    await svc.store.close();
  }
  return { pairs: out, extra };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** The process's resident set, in bytes (Linux /proc). */
  rss(): number;
  /** CPU seconds the process has used so far, every thread, user and system (Linux /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const entry = here.endsWith('.ts') ? join(here, '../../../src/main.ts') : join(here, '../../../src/main.js');

/** Waits for a child's "listening on <url>" line (at most 20 s). */
function listening(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the server did not start in 20 s')), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code})`));
    });
  });
}

/** Linux's USER_HZ, the unit of /proc/PID/stat's times (100 on every Linux port that matters here). */
const CLOCK_TICKS = 100;

function handle(child: ChildProcess, url: string): ServerProcess {
  return {
    url,
    child,
    rss: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m?.[1] ?? Number.NaN) * 1024;
    },
    cpuSeconds: () => {
      // Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks of 1/100 s; the name before them may hold spaces.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The platform on `dir`, started by its real entry point; env adds PHONEIM_* settings. With
 * PHONEIM_BENCH_PROF_DIR set, the platform writes a CPU profile there when it stops (node --cpu-prof).
 */
export async function startServer(
  dir: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  // The bench's own settings are no keys of the platform's config (which rejects unknown PHONEIM_* keys).
  const { PHONEIM_BENCH_RESULTS: _results, PHONEIM_BENCH_PROF_DIR: profDir, ...inherited } = processEnvironment();
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...process.execArgv, ...prof, ...nodeArgs, entry], {
    env: {
      ...inherited,
      PHONEIM_DATA_DIR: dir,
      PHONEIM_HTTP__PORT: '0',
      PHONEIM_LOG__LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return handle(child, await listening(child, /listening on (http:\/\/\S+) /));
}

/**
 * A bare `ws` server, nothing else: a socket that connects with ?pair=N&role=s
 * has each frame it sends passed, as it is, to the socket of ?pair=N&role=r
 * (and a role=r frame back to role=s) - the relay every message of the
 * platform makes, without parsing, storing or routing anything.
 */
const BARE_RELAY = `
import { WebSocketServer } from 'ws';
const pairs = new Map();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const key = q.get('pair');
  const role = q.get('role');
  const p = pairs.get(key) ?? {};
  p[role] = ws;
  pairs.set(key, p);
  const other = role === 's' ? 'r' : 's';
  ws.on('message', (d, isBinary) => p[other]?.send(d, { binary: isBinary }));
  ws.on('close', () => { if (p[role] === ws) delete p[role]; });
});
wss.on('listening', () => console.log('listening on http://127.0.0.1:' + wss.address().port + ' '));
process.on('SIGTERM', () => process.exit(0));
`;

export async function startBareRelay(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_RELAY], {
    cwd: join(here, '../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return handle(child, await listening(child, /listening on (http:\/\/\S+) /));
}
