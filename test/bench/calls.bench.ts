/**
 * Concurrent calls at a human pace, with the simulator in its own process as
 * Asterisk would be (sim-process.ts) and our ARI adapter (AriCallControl,
 * ari-client) in this one: N callers dial in; the application answers, plays
 * a prompt, and plays it again on each key (stopping the one before:
 * barge-in); the caller hangs up after the last.
 *
 * The same callers, pressing the same keys at the same pace, first call the
 * trivial ARI application (trivial-app.ts: the same work with nothing of
 * ours), then ours, in this one run. Figures: DTMF to play request (taken at
 * the simulator's edge: key raised -> play request received) p50 and p99, and
 * this process's event-loop lag p99, each beside the trivial app's.
 *
 * Usage: node dist/test/bench/calls.bench.js [calls=1000] [keysPerCall=4] [thinkMs=2000]
 * Bounded: at most 5,000 calls; each phase ends after 120 s whatever happens.
 */
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { AriCallControl } from '../../src/telephony/ari-call-control.js';
import { watchLag } from './lag.js';
import { report, stats } from './report.js';
import { type RunResult, startSimChild } from './sim-child.js';
import { startTrivialApp } from './trivial-app.js';

const arg = (i: number, def: number, max: number) => {
  const n = Number(process.argv[i] ?? def);
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : def;
};
const CALLS = Math.floor(arg(2, 1000, 5000));
const KEYS = Math.floor(arg(3, 4, 20));
const THINK_MS = arg(4, 2000, 30_000);
const RAMP_MS = 5000;
const MAX_MS = 120_000;
const BENCH = 'calls';

const sim = await startSimChild({ speedFactor: 1 });
const numbers = Array.from({ length: CALLS }, (_, i) => `+1555${String(i).padStart(7, '0')}`);
const steps = Array.from({ length: KEYS }, (_, k) => ({ keys: String((k + 1) % 10), kind: 'key' }));

/** Runs the callers against `app` while this process's event-loop lag is watched. */
async function phase(app: string): Promise<{ result: RunResult; lagP99: number }> {
  const lag = watchLag();
  const result = await sim.run({
    app,
    calls: CALLS,
    rampMs: RAMP_MS,
    numbers,
    steps,
    thinkMs: THINK_MS,
    endWaitMs: 500,
    maxMs: MAX_MS,
  });
  return { result, lagP99: lag.stop().p99 };
}

try {
  // ---- the reference: the trivial ARI application --------------------------------------------
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
    calls: 100,
    rampMs: 1000,
    numbers,
    steps,
    thinkMs: 200,
    endWaitMs: 100,
    maxMs: 30_000,
  });
  const ref = await phase('trivial');
  await trivial.close();

  // ---- ours: the adapter the IVR runs on --------------------------------------------------------
  const log = silentLogger();
  const control = new AriCallControl({
    url: sim.ariUrl,
    user: sim.user,
    password: sim.password,
    app: 'phoneim',
    log,
    clock: new SystemClock(),
    reconnectInitialMs: 100,
    reconnectMaxMs: 1000,
    requestTimeoutMs: 30_000,
  });
  let live = 0;
  let maxLive = 0;
  let failures = 0;
  control.onCall((call) => {
    live++;
    maxLive = Math.max(maxLive, live);
    void call.ended.then(() => live--);
    void (async () => {
      call.onDtmf(() => {
        void call.play('sound:menu-prompt').catch(() => failures++);
      });
      await call.answer();
      await call.play('sound:menu-prompt');
    })().catch(() => failures++);
  });
  control.start();
  await control.ready();
  const ours = await phase('phoneim');
  await control.close();

  // ---- figures ----------------------------------------------------------------------------------
  const o = stats(Object.values(ours.result.latencies).flat());
  const t = stats(Object.values(ref.result.latencies).flat());
  console.log(
    `calls: ${CALLS} callers, ${KEYS} keys each, ${THINK_MS} ms between keys, simulator in its own process (pid ${sim.pid})`,
  );
  for (const [name, r] of [
    ['trivial app', ref.result],
    ['ours', ours.result],
  ] as const)
    console.log(
      `  ${name}: ${r.placed} placed, ${r.completed} completed, ${r.seconds.toFixed(1)} s; failures ${JSON.stringify(r.failures)}`,
    );
  console.log(`  ours: at most ${maxLive} calls held at once; ${failures} request errors`);
  report({
    bench: BENCH,
    what: `calls held at once (of ${CALLS})`,
    value: maxLive,
    unit: 'calls',
    reference: { what: 'calls placed', value: ours.result.placed },
    goal: { text: `>= ${CALLS}`, met: maxLive >= CALLS },
  });
  report({
    bench: BENCH,
    what: 'DTMF to play request p50',
    value: o.p50,
    unit: 'ms',
    reference: { what: 'trivial ARI app p50', value: t.p50 },
  });
  report({
    bench: BENCH,
    what: 'DTMF to play request p99',
    value: o.p99,
    unit: 'ms',
    reference: { what: 'trivial ARI app p99', value: t.p99 },
    goal: { text: '<= 20 ms', met: o.p99 <= 20 },
  });
  report({
    bench: BENCH,
    what: 'event-loop lag p99 (platform process)',
    value: ours.lagP99,
    unit: 'ms',
    reference: { what: 'same process, trivial app', value: ref.lagP99 },
    goal: { text: '<= 10 ms', met: ours.lagP99 <= 10 },
  });
  report({
    bench: BENCH,
    what: 'calls that completed every key',
    value: ours.result.completed,
    unit: 'calls',
    reference: { what: 'trivial app', value: ref.result.completed },
    goal: { text: `${CALLS}`, met: ours.result.completed === CALLS },
  });
} finally {
  await sim.close();
}
// Whatever handles a client library leaves open must not keep the bench from ending.
process.exit(0);
