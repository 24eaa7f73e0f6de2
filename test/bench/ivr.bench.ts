/**
 * The IVR under load at real pace, beside the floor of any ARI application.
 *
 * The simulator runs in its own process, as Asterisk would (sim-process.ts);
 * the platform (store, accounts, presence, audio server, IVR and its ARI
 * adapter) runs in this one. CALLS callers, each with 3 new messages, call in
 * and press, a human pause apart: the PIN and `#`; `1` (hear the first
 * message again), `6`, `6` (next), `*` (back to the main menu) - the message
 * keys; then `2` (who is online) and `9` (goodbye) - the main menu's keys.
 *
 * The same callers pressing the same keys at the same pace first call the
 * trivial ARI application (trivial-app.ts: answers, and on each key stops the
 * prompt and plays a fixed one), in this same run. Figures, taken at the
 * simulator's edge (a key raised -> the next play request received): p50 and
 * p99 per kind of key for both, and their ratio; this process's event-loop
 * lag; how many message bodies were heard from the speech cache (bodies are
 * rendered ahead by the platform itself when the messages arrive, not by this
 * bench); and the platform process's RSS with 1,000 idle calls beside the
 * same process with none.
 *
 * The PIN hashes use scrypt N=1024 so that 500 log-ons fit the run on two
 * cores; the production cost is measured by accounts.bench.ts.
 *
 * Usage: node dist/test/bench/ivr.bench.js [calls=500] [idleCalls=1000] [log level]
 * Bounded: at most 2,000 callers; each phase ends after 180 s whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { CallContext } from '../../src/ivr/context.js';
import { PROMPTS } from '../../src/ivr/prompts.js';
import { watchLag } from './lag.js';
import { report, stats } from './report.js';
import { type RunResult, type Step, startSimChild } from './sim-child.js';
import { startTrivialApp } from './trivial-app.js';

const CALLS = Math.min(2000, Math.max(1, Number(process.argv[2] ?? 500) || 500));
const IDLE_CALLS = Math.min(2000, Math.max(0, Number(process.argv[3] ?? 1000) || 0));
const LOG_LEVEL = process.argv[4];
const BENCH = 'ivr';
const RAMP_MS = 10_000;
const THINK_MS = 1500;
const MAX_MS = 180_000;
const KDF_COST = 1024;
const TEXTS = ['Are you coming to the meeting?', 'The train is late again.', 'Call me when you can.'];
/** Caller i's three messages: one of 100 sets, so that speech is rendered for many texts, not three. */
const bodiesOf = (i: number) => TEXTS.map((text) => `${text} Number ${i % 100}.`);
const KINDS = ['PIN #', 'message key', 'menu key'] as const;
const STEPS: Step[] = [
  { keys: '2468#', kind: 'PIN #' },
  { keys: '1', kind: 'message key' },
  { keys: '6', kind: 'message key' },
  { keys: '6', kind: 'message key' },
  { keys: '*', kind: 'message key' },
  { keys: '2', kind: 'menu key' },
  { keys: '9', kind: 'menu key' },
];

const sim = await startSimChild({ speedFactor: 1 });
const dir = mkdtempSync(join(tmpdir(), 'bench-ivr-'));
const config = loadConfig({
  env: {},
  overrides: {
    dataDir: dir,
    log: { level: 'silent' },
    http: { port: 0 },
    accounts: { kdfCost: KDF_COST },
    telephony: {
      ari: { url: sim.ariUrl, user: sim.user, password: sim.password, app: 'phoneim' },
      ami: { host: '127.0.0.1', port: sim.amiPort, user: sim.user, secret: sim.password },
    },
    ivr: { firstDigitTimeoutMs: 30_000, interDigitTimeoutMs: 10_000, amdListenSeconds: 0 },
  },
});
const platform = new Platform({
  config,
  log: LOG_LEVEL ? createLogger({ level: LOG_LEVEL }) : silentLogger(),
});
const number = (i: number) => `+1555020${String(i).padStart(4, '0')}`;
const numbers = Array.from({ length: CALLS }, (_, i) => number(i));
const run = (app: string): Promise<RunResult> =>
  sim.run({
    app,
    calls: CALLS,
    rampMs: RAMP_MS,
    numbers,
    steps: STEPS,
    thinkMs: THINK_MS,
    endWaitMs: 3000,
    maxMs: MAX_MS,
  });
const summary = (name: string, r: RunResult) =>
  console.log(
    `  ${name}: ${r.placed} calls placed, ${r.completed} completed every step, ${r.seconds.toFixed(1)} s; failures ${JSON.stringify(r.failures)}`,
  );

try {
  await platform.start();
  const { accounts, presence, audio, ivr } = platform.services;
  for (let i = 0; i < 400 && !platform.callControl?.isConnected; i++) await new Promise((r) => setTimeout(r, 10));

  // ---- the community: one sender, CALLS callers with 3 new messages each --------------
  const setupStart = performance.now();
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const callers: number[] = [];
  // Prompts and each caller's greeting are there before the calls, as after a day in service; message
  // speech is left to the platform, which renders it ahead when a message arrives for a phone user.
  await Promise.all(Object.values(PROMPTS).map((text) => audio.prerender(text)));
  for (let i = 0; i < CALLS; i++) {
    const u = await accounts.createUser({
      username: `caller${i}`,
      displayName: `Caller ${i}`,
      pin: '2468',
      callerIds: [number(i)],
    });
    callers.push(u.id);
    if ((await presence.requestContact(alice.id, u.id)) === 'requested') await presence.approveContact(u.id, alice.id);
    const s = await presence.createSession(alice.id, [u.id]);
    for (const text of bodiesOf(i)) await presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text });
    await audio.prerender(`Welcome back, Caller ${i}. Please enter your PIN, then press pound.`);
  }
  const setupSeconds = (performance.now() - setupStart) / 1000;

  // ---- the reference: the trivial ARI application, same callers, same keys --------------------
  const trivial = await startTrivialApp({
    url: sim.ariUrl,
    user: sim.user,
    password: sim.password,
    app: 'trivial',
    media: 'sound:menu-prompt',
  });
  // A warm-up, not measured: the code both apps share (ari-client, the simulator) is compiled before either is timed.
  await sim.run({
    app: 'trivial',
    calls: Math.min(CALLS, 100),
    rampMs: 1000,
    numbers,
    steps: STEPS,
    thinkMs: 200,
    endWaitMs: 100,
    maxMs: 60_000,
  });
  const refLag = watchLag();
  const ref = await run('trivial');
  const refLagFigures = refLag.stop();
  await trivial.close();

  // ---- message bodies heard from the speech cache ---------------------------------------------
  const bodies = new Set(Array.from({ length: CALLS }, (_, i) => bodiesOf(i)).flat());
  let bodiesAsked = 0;
  let bodiesCached = 0;
  // Counted where the IVR turns prompts into what it plays (not where it renders ahead): was the body there?
  const media = CallContext.prototype.media;
  CallContext.prototype.media = function (this: CallContext, prompts, opts) {
    if (!opts?.ahead)
      for (const p of prompts)
        if (typeof p === 'object' && 'text' in p && bodies.has(p.text)) {
          bodiesAsked++;
          if (audio.textFor(audio.speechId(p.text, p.language ? { language: p.language } : {})) !== null)
            bodiesCached++;
        }
    return media.call(this, prompts, opts);
  };

  // ---- ours --------------------------------------------------------------------------------------
  const lag = watchLag();
  const ours = await run('phoneim');
  const lagFigures = lag.stop();
  for (let i = 0; i < 1500 && ivr.activeCalls > 0; i++) await new Promise((r) => setTimeout(r, 10));
  let unread = 0;
  for (const id of callers) unread += (await presence.unread(id)).length;

  // ---- memory: idle calls held by the platform --------------------------------------------------
  let rss: { none: number; idle: number; calls: number } | undefined;
  if (IDLE_CALLS > 0) {
    const sample = async () => {
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 200));
        xs.push(process.memoryUsage().rss);
      }
      return stats(xs).p50;
    };
    const none = await sample();
    const strangers = Array.from({ length: 100 }, (_, i) => `+1555990${String(i).padStart(4, '0')}`);
    const held = await sim.idle({ app: 'phoneim', calls: IDLE_CALLS, numbers: strangers, maxMs: 60_000 });
    const idle = await sample();
    rss = { none, idle, calls: Math.min(held.answered, ivr.activeCalls) };
    await sim.release();
  }

  // ---- figures ----------------------------------------------------------------------------------
  console.log(
    `IVR: ${CALLS} callers at real pace (${THINK_MS} ms before each key), simulator in its own process (pid ${sim.pid}); setup ${setupSeconds.toFixed(1)} s; scrypt N=${KDF_COST}`,
  );
  summary('trivial app', ref);
  summary('ours', ours);
  report({
    bench: BENCH,
    what: 'calls that completed every step',
    value: ours.completed,
    unit: 'calls',
    reference: { what: 'trivial app', value: ref.completed },
    goal: { text: `${CALLS}`, met: ours.completed === CALLS },
  });
  report({
    bench: BENCH,
    what: 'messages left unread after the calls',
    value: unread,
    unit: 'messages',
    goal: { text: '0', met: unread === 0 },
  });
  const all = stats(KINDS.flatMap((k) => ours.latencies[k] ?? []));
  const allRef = stats(KINDS.flatMap((k) => ref.latencies[k] ?? []));
  report({
    bench: BENCH,
    what: 'key to next playback request p99 (all keys)',
    value: all.p99,
    unit: 'ms',
    reference: { what: 'trivial ARI app p99', value: allRef.p99 },
    goal: { text: '<= 50 ms', met: all.p99 <= 50 },
  });
  for (const kind of KINDS) {
    const o = stats(ours.latencies[kind] ?? []);
    const t = stats(ref.latencies[kind] ?? []);
    for (const p of ['p50', 'p99'] as const)
      report({
        bench: BENCH,
        what: `after ${kind} ${p} (n=${o.n})`,
        value: o[p],
        unit: 'ms',
        reference: { what: `trivial app ${p}, n=${t.n}`, value: t[p] },
        goal: { text: '<= 1.5x reference', met: o[p] <= 1.5 * t[p] },
      });
  }
  report({
    bench: BENCH,
    what: 'event-loop lag p99 (platform process)',
    value: lagFigures.p99,
    unit: 'ms',
    reference: { what: 'same process, trivial app', value: refLagFigures.p99 },
  });
  report({
    bench: BENCH,
    what: `message bodies heard from the speech cache (of ${bodiesAsked})`,
    value: bodiesAsked ? (100 * bodiesCached) / bodiesAsked : Number.NaN,
    unit: '%',
    goal: { text: '>= 95%', met: bodiesAsked > 0 && bodiesCached >= 0.95 * bodiesAsked },
  });
  if (rss) {
    const mb = (b: number) => b / 2 ** 20;
    report({
      bench: BENCH,
      what: `platform RSS with ${rss.calls} idle calls`,
      value: mb(rss.idle),
      unit: 'MiB',
      reference: { what: 'same process, no calls', value: mb(rss.none) },
    });
    report({
      bench: BENCH,
      what: 'RSS per idle call',
      value: (rss.idle - rss.none) / 1024 / Math.max(1, rss.calls),
      unit: 'KiB',
    });
  }
} finally {
  await platform.stop();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
// Whatever handles a client library leaves open must not keep the bench from ending.
process.exit(0);
