/**
 * Account validation throughput: caller ID + PIN log-ons per second with the
 * production scrypt cost, the way the IVR calls it (several calls at once).
 * Bounded: at most 400 validations or 15 seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';

const USERS = 50;
const MAX_VALIDATIONS = 400;
const MAX_MS = 15_000;
const CONCURRENCY = 8;

const dir = mkdtempSync(join(tmpdir(), 'bench-accounts-'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
const svc = buildServices({ config, log: silentLogger() });
try {
  for (let i = 0; i < USERS; i++)
    await svc.accounts.createUser({
      username: `user${i}`,
      displayName: `User ${i}`,
      pin: '2468',
      callerIds: [`+1555010${String(i).padStart(4, '0')}`],
    });

  let done = 0;
  let accepted = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const worker = async () => {
    while (done < MAX_VALIDATIONS && performance.now() - start < MAX_MS) {
      const i = done++ % USERS;
      const t0 = performance.now();
      const r = await svc.accounts.validateCallerPin(`+1555010${String(i).padStart(4, '0')}`, '2468');
      latencies.push(performance.now() - t0);
      if (r.ok) accepted++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0).toFixed(1);
  console.log(`account validation (caller ID + PIN, scrypt N=${config.accounts.kdfCost}, ${CONCURRENCY} at once)`);
  console.log(`  validations: ${latencies.length} (${accepted} accepted) in ${seconds.toFixed(2)} s`);
  console.log(`  throughput:  ${(latencies.length / seconds).toFixed(1)} validations/s`);
  console.log(`  latency:     p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
} finally {
  await svc.store.close();
  rmSync(dir, { recursive: true, force: true });
}
