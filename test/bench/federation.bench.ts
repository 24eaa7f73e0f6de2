/**
 * Cross-community message figures: two communities (A and B) on loopback in
 * this process, each with its own SQLite file, key and HTTP port, federated
 * with signed requests. Alice of A writes to Bob of B in one session.
 *
 * A message counts when B has stored it: A committed it (synchronous=FULL
 * group commit) before Alice's post was acknowledged, queued it durably for B,
 * and B committed it before answering A's signed request (which is what lets
 * A take it off its queue). Figures: messages per second over a burst, and
 * end-to-end latency (Alice's post to B's commit) p50/p99 at a steady rate.
 * Bounded: at most 2,000 messages or 15 seconds for the burst, 5 seconds at
 * the rate, each followed by at most 10 seconds for stragglers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { percentile, report } from './report.js';

const BURST_MAX = 2_000;
const BURST_MS = 15_000;
const RATE = /^\d+$/.test(process.argv[2] ?? '') ? Number(process.argv[2]) : 200;
const RATE_SECONDS = 5;

const pct = (sorted: number[], p: number) => percentile(sorted, p).toFixed(1);

async function community(name: string): Promise<{ platform: Platform; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `bench-fed-${name}-`));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      log: { level: 'silent' },
      http: { port: 0 },
      accounts: { kdfCost: 1024 },
      federation: { domain: name },
    },
  });
  const platform = new Platform({ config, log: silentLogger() });
  const url = await platform.start();
  return { platform, url, dir };
}

const a = await community('a.example');
const b = await community('b.example');
try {
  const fa = a.platform.services.federation;
  const fb = b.platform.services.federation;
  await fa.addPeer({ name: 'b.example', url: b.url, publicKey: fb.whoami().publicKey });
  await fb.addPeer({ name: 'a.example', url: a.url, publicKey: fa.whoami().publicKey });
  const alice = await a.platform.services.accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const bob = await b.platform.services.accounts.createUser({ username: 'bob', displayName: 'Bob' });
  const session = await fa.invite(alice.id, ['bob@b.example']);
  const pb = b.platform.services.presence;
  for (let i = 0; i < 200 && (await pb.sessionsOf(bob.id)).length === 0; i++)
    await new Promise((r) => setTimeout(r, 25));
  await pb.accept(session.id, bob.id);
  const pa = a.platform.services.presence;
  for (let i = 0; i < 200 && (await pa.members(session.id)).some((m) => m.state !== 'joined'); i++)
    await new Promise((r) => setTimeout(r, 25));

  // B's commit of each message, by its text
  const arrived = new Map<string, number>();
  let waiter: (() => void) | undefined;
  pb.onMessageStored(({ message }) => {
    if (message.text) arrived.set(message.text, performance.now());
    waiter?.();
  });
  const waitFor = async (n: number, ms: number) => {
    const end = Date.now() + ms;
    while (arrived.size < n && Date.now() < end)
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 100);
      });
  };

  // 1. burst: as fast as Alice's posts are acknowledged, 50 in flight
  const t0 = performance.now();
  let sent = 0;
  const post = async () => {
    while (sent < BURST_MAX && performance.now() - t0 < BURST_MS) {
      const text = `burst ${sent++}`;
      await pa.postMessage({ sessionId: session.id, fromUserId: alice.id, text });
    }
  };
  await Promise.all(Array.from({ length: 50 }, post));
  await waitFor(sent, 10_000);
  const burstMs = Math.max(...arrived.values()) - t0;
  const burstCount = arrived.size;
  console.log(
    `burst: ${burstCount} of ${sent} messages A -> B durable on both sides in ${burstMs.toFixed(0)} ms: ${((burstCount / burstMs) * 1000).toFixed(0)} messages/s`,
  );

  // 2. latency at a steady rate
  arrived.clear();
  const posted = new Map<string, number>();
  const total = RATE * RATE_SECONDS;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const text = `rate ${i}`;
    posted.set(text, performance.now());
    void pa.postMessage({ sessionId: session.id, fromUserId: alice.id, text });
  }
  await waitFor(total, 10_000);
  const lat = [...posted].flatMap(([k, at]) => {
    const got = arrived.get(k);
    return got === undefined ? [] : [got - at];
  });
  lat.sort((x, y) => x - y);
  console.log(
    `latency at ${RATE}/s for ${RATE_SECONDS} s: ${lat.length} of ${total} arrived; p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms, max ${pct(lat, 1)} ms`,
  );
  console.log(`(${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)})`);
  report({
    bench: 'federation',
    what: 'A to B burst, durable on both sides',
    value: (burstCount / burstMs) * 1000,
    unit: '/s',
  });
  report({ bench: 'federation', what: `A to B latency p99 at ${RATE}/s`, value: percentile(lat, 0.99), unit: 'ms' });
} finally {
  await a.platform.stop();
  await b.platform.stop();
  rmSync(a.dir, { recursive: true, force: true });
  rmSync(b.dir, { recursive: true, force: true });
}
