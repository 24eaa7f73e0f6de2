/**
 * Concurrent calls through the simulator and the ARI adapter (ari-client):
 * N virtual callers dial in; the application answers, plays a prompt on each
 * key (stopping the one before: barge-in) and hangs up after the last key.
 * Prints calls held at once, DTMF-to-play-request latency (from the moment the
 * simulator raises ChannelDtmfReceived to the moment it receives the play
 * request for that key) and event-loop lag, all in this one process.
 *
 * Usage: node dist/test/bench/calls.bench.js [calls=1000] [keysPerCall=4] [speedFactor=1] [maxSeconds=90]
 * (speedFactor 1 = callers press keys at a human pace; 10 = ten times faster, which saturates
 * the REST path: about 2,500 ARI requests/s through ari-client in one process.)
 * Bounded: the run stops placing calls and reports after 90 seconds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { startSimulator } from '../../src/sim/index.js';
import type { SimChannel } from '../../src/sim/softswitch.js';
import { tone, writeWav } from '../../src/sim/wav.js';
import { AriCallControl } from '../../src/telephony/ari-call-control.js';

const arg = (i: number, def: number, max: number) => {
  const n = Number(process.argv[i] ?? def);
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : def;
};
const CALLS = Math.floor(arg(2, 1000, 5000));
const KEYS = Math.floor(arg(3, 4, 20));
const SPEED = arg(4, 1, 1000);
const MAX_MS = arg(5, 90, 90) * 1000;
const RAMP_PER_10MS = 20;

const dir = mkdtempSync(join(tmpdir(), 'bench-calls-'));
writeFileSync(join(dir, 'menu-prompt.wav'), writeWav(tone(2000, 8000), 8000));
const log = silentLogger();
const sim = await startSimulator({
  user: 'bench',
  password: 'bench-secret',
  soundsDir: dir,
  log,
  speedFactor: SPEED,
  controlPort: null,
});
const control = new AriCallControl({
  url: sim.ariUrl,
  user: 'bench',
  password: 'bench-secret',
  app: 'phoneim',
  log,
  clock: new SystemClock(),
  reconnectInitialMs: 100,
  reconnectMaxMs: 1000,
  requestTimeoutMs: 30_000,
});
control.start();
await control.ready();

// Timestamps at the simulator's edge: when a key is raised, when a play request arrives.
const sw = sim.softswitch;
const keyAt = new Map<string, number>();
const latencies: number[] = [];
const dtmf = sw.dtmf.bind(sw);
sw.dtmf = (ch: SimChannel, digit: string, ms: number) => {
  keyAt.set(ch.id, performance.now());
  dtmf(ch, digit, ms);
};
const play = sw.play.bind(sw);
sw.play = (id, media, pb, lang) => {
  const t = keyAt.get(id);
  if (t !== undefined) {
    latencies.push(performance.now() - t);
    keyAt.delete(id);
  }
  return play(id, media, pb, lang);
};

let live = 0;
let maxLive = 0;
let completed = 0;
let failures = 0;
control.onCall((call) => {
  live++;
  maxLive = Math.max(maxLive, live);
  void call.ended.then(() => live--);
  void (async () => {
    let keys = 0;
    call.onDtmf(() => {
      keys++;
      if (keys >= KEYS) call.hangup().catch(() => failures++);
      else void call.play('sound:menu-prompt').catch(() => failures++);
    });
    await call.answer();
    await call.play('sound:menu-prompt');
  })().catch(() => failures++);
});

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const start = performance.now();
const callers: Promise<void>[] = [];
for (let i = 0; i < CALLS && performance.now() - start < MAX_MS; i++) {
  if (i > 0 && i % RAMP_PER_10MS === 0) await new Promise((r) => setTimeout(r, 10));
  const caller = sim.placeCall({ from: `+1555${String(i).padStart(7, '0')}`, to: '100' });
  callers.push(
    (async () => {
      // The caller waits for the menu, then presses keys at a human pace.
      await caller.nextPlayback(MAX_MS).catch(() => undefined);
      for (let k = 0; k < KEYS && caller.isUp; k++) await caller.pressKeys(String(k % 10), { gapMs: 800 });
      const end = await Promise.race([
        caller.ended,
        new Promise<undefined>((r) =>
          setTimeout(() => r(undefined), Math.max(0, MAX_MS - (performance.now() - start))).unref(),
        ),
      ]);
      if (end?.by === 'app') completed++;
      else if (caller.isUp) await caller.hangup();
    })(),
  );
}
await Promise.all(callers);

lag.disable();
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0).toFixed(1);
console.log(`concurrent calls through the simulator + ARI adapter (${KEYS} keys per call, speed x${SPEED})`);
console.log(`  calls placed:     ${callers.length} (ramp ${RAMP_PER_10MS} per 10 ms)`);
console.log(`  calls held:       ${maxLive} at once, ${completed} completed (app hung up after the last key)`);
console.log(`  DTMF -> play:     p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms over ${latencies.length} keys`);
console.log(
  `  event-loop lag:   p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms`,
);
console.log(`  errors:           ${failures}; wall time ${seconds.toFixed(1)} s`);
await control.close();
await sim.close();
rmSync(dir, { recursive: true, force: true });
