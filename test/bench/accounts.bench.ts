/**
 * Log-ins with the production scrypt cost, the way the IVR calls them
 * (caller ID + PIN):
 * - a log-in storm: 50 log-ins a second arriving for a few seconds, each
 *   started on time whether or not the ones before have finished, while this
 *   process's event-loop lag is watched - beside the same process's lag with
 *   no log-ins, in this run. The KDF runs on libuv's pool, so the loop (and
 *   every call on it) must not stall;
 * - throughput with 8 at once, beside Node's own scrypt with the same
 *   parameters and concurrency (the limit of the same work on this machine),
 *   the two measured in alternating rounds.
 * Bounded: the storm lasts STORM_SECONDS; throughput at most 400 validations or 15 s each side.
 */
import { scrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { watchLag } from './lag.js';
import { report, stats } from './report.js';

const BENCH = 'accounts';
const STORM_PER_SECOND = 50;
const STORM_SECONDS = 6;
const MAX_VALIDATIONS = 400;
const MAX_MS = 15_000;
/** Throughput rounds per side, alternating with the other side's. */
const ROUNDS = 4;
const CONCURRENCY = 8;
/** One log-in per user in the storm: several at once for one user would be refused as guessing (tries are reserved). */
const USERS = STORM_PER_SECOND * STORM_SECONDS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const number = (i: number) => `+1555010${String(i).padStart(4, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'bench-accounts-'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
const svc = buildServices({ config, log: silentLogger() });
const N = config.accounts.kdfCost;
try {
  for (let i = 0; i < USERS; i += CONCURRENCY)
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, USERS - i) }, (_, k) =>
        svc.accounts.createUser({
          username: `user${i + k}`,
          displayName: `User ${i + k}`,
          pin: '2468',
          callerIds: [number(i + k)],
        }),
      ),
    );

  // ---- the storm, beside a quiet loop ------------------------------------------------------------
  const quiet = watchLag();
  await sleep(STORM_SECONDS * 1000);
  const quietLag = quiet.stop();

  const storm = watchLag();
  const stormLatencies: number[] = [];
  let accepted = 0;
  const started = performance.now();
  const logins: Promise<void>[] = [];
  for (let k = 0; k < STORM_PER_SECOND * STORM_SECONDS; k++) {
    const due = started + (k * 1000) / STORM_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    logins.push(
      (async () => {
        const t0 = performance.now();
        const r = await svc.accounts.validateCallerPin(number(k % USERS), '2468');
        stormLatencies.push(performance.now() - t0);
        if (r.ok) accepted++;
      })(),
    );
  }
  await Promise.all(logins);
  const stormLag = storm.stop();
  const stormSeconds = (performance.now() - started) / 1000;

  // ---- throughput, beside scrypt alone -------------------------------------------------------------
  // Measured in alternating rounds (ours, alone, alone, ours, ...), each side's rounds summed: measured one
  // after the other, whichever ran first met a different machine (other work, the storm's tail) than the other.
  const sides = {
    ours: { done: 0, ms: 0, latencies: [] as number[] },
    alone: { done: 0, ms: 0, latencies: [] as number[] },
  };
  const round = async (side: (typeof sides)['ours'], one: () => Promise<unknown>) => {
    const t0 = performance.now();
    let started = 0;
    const worker = async () => {
      while (started < MAX_VALIDATIONS / ROUNDS && performance.now() - t0 < MAX_MS / ROUNDS) {
        started++;
        const s = performance.now();
        await one();
        side.latencies.push(performance.now() - s);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    side.done += started;
    side.ms += performance.now() - t0;
  };
  let i = 0;
  const salt = Buffer.alloc(16, 7);
  const validate = () => svc.accounts.validateCallerPin(number(i++ % USERS), '2468');
  const scryptAlone = () =>
    new Promise((resolve, reject) =>
      scrypt('2468', salt, 64, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 }, (e, k) =>
        e ? reject(e) : resolve(k),
      ),
    );
  for (let r = 0; r < ROUNDS; r++) {
    // ABBA: a drift that favours the later half-round favours each side equally.
    if (r % 2 === 0) {
      await round(sides.ours, validate);
      await round(sides.alone, scryptAlone);
    } else {
      await round(sides.alone, scryptAlone);
      await round(sides.ours, validate);
    }
  }
  const rate = (side: (typeof sides)['ours']) => side.done / (side.ms / 1000);
  const ours = { perSecond: rate(sides.ours), ...stats(sides.ours.latencies) };
  const alone = { perSecond: rate(sides.alone), ...stats(sides.alone.latencies) };

  const s = stats(stormLatencies);
  console.log(
    `accounts: log-ins by caller ID + PIN, scrypt N=${N}; storm ${s.n} log-ins (${accepted} accepted) in ${stormSeconds.toFixed(1)} s`,
  );
  report({
    bench: BENCH,
    what: `event-loop lag p99 during ${STORM_PER_SECOND} log-ins/s`,
    value: stormLag.p99,
    unit: 'ms',
    reference: { what: 'same process, no log-ins', value: quietLag.p99 },
    goal: { text: '<= 10 ms', met: stormLag.p99 <= 10 },
  });
  report({
    bench: BENCH,
    what: `log-in latency p99 during ${STORM_PER_SECOND} log-ins/s`,
    value: s.p99,
    unit: 'ms',
    reference: { what: `scrypt alone p99, ${CONCURRENCY} at once`, value: alone.p99 },
  });
  report({
    bench: BENCH,
    what: `validations/s, ${CONCURRENCY} at once`,
    value: ours.perSecond,
    unit: '/s',
    reference: { what: 'scrypt alone, same parameters', value: alone.perSecond },
    goal: { text: '>= 0.9x reference', met: ours.perSecond >= 0.9 * alone.perSecond },
  });
} finally {
  await svc.store.close();
  rmSync(dir, { recursive: true, force: true });
}
