/**
 * Speech pipeline against the engines alone, for a 100-character message:
 * - engine: the engine's own command writing its native WAV to a file;
 * - uncached: speechUrl on text never seen (sanitise, synthesise, resample
 *   to 8 kHz in process, write, index, sign) - time to first telephony audio;
 * - cached: speechUrl on text already rendered;
 * - ratio uncached / engine (goal for espeak-ng <= 1.25, the others
 *   <= 1.5), cached (goal <= 5 ms);
 * - syntheses per second with 4 in parallel (for information);
 * - the main thread's CPU per uncached render beside the engine alone's
 *   (Linux: the thread's own time from /proc; this is what a render costs
 *   the event loop that serves calls; for information).
 * Every figure is printed through report.ts beside its same-run reference.
 * Bounded: at most 15 runs (9 for festival) per measure and 30 s per engine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioService } from '../../src/audio/audio-service.js';
import { canStart, run } from '../../src/audio/engines.js';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { openSqliteStore } from '../../src/store/index.js';
import { report, stats } from './report.js';

const BASE = 'From Alice: the meeting moved to Thursday afternoon, please bring the quarterly figures with you.';
/** A distinct 100-character message for run n. */
const message = (n: number, engine: string) => `${engine} ${n} ${BASE}`.slice(0, 100).padEnd(100, '.');

const ENGINES = [
  { name: 'espeak-ng', runs: 15, probe: ['--version'] },
  { name: 'flite', runs: 15, probe: ['--version'] },
  { name: 'festival', runs: 9, probe: ['-h'] },
] as const;
const MAX_MS_PER_ENGINE = 30_000;
const CACHED_RUNS = 500;

const BENCH = 'speech';
/** The main thread's own CPU time in ms (Linux), not its worker threads'; undefined elsewhere. */
const MAIN_STAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;
const mainThreadCpuMs = existsSync(MAIN_STAT)
  ? () => Number(readFileSync(MAIN_STAT, 'utf8').split(' ')[0]) / 1e6
  : undefined;
/** The goal of uncached / engine alone, per engine (issue #17: espeak-ng within 1.25x). */
const RATIO_GOAL: Record<string, number> = { 'espeak-ng': 1.25, flite: 1.5, festival: 1.5 };

/** The engine alone: its own command line, writing its own WAV. */
async function engineAlone(engine: string, text: string, out: string): Promise<void> {
  const r =
    engine === 'espeak-ng'
      ? await run('espeak-ng', ['-v', 'en-us', '-w', out, text])
      : engine === 'flite'
        ? await run('flite', ['-voice', 'slt', '-t', text, '-o', out])
        : await run('text2wave', ['-eval', '(voice_kal_diphone)', '-o', out], { input: text });
  if (r.code !== 0) throw new Error(`${engine} failed: ${r.stderr}`);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-speech-'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, log: { level: 'silent' } } });
const store = openSqliteStore({ path: join(dir, 'phoneim.sqlite'), nodeId: config.presence.nodeId });
const audio = new AudioService({
  config,
  store: store.audio,
  clock: new ManualClock(),
  log: silentLogger(),
  baseUrl: () => 'http://127.0.0.1:8080',
});

try {
  console.log('speech pipeline, 100-character messages (medians)');
  for (const e of ENGINES) {
    const program = e.name === 'festival' ? 'text2wave' : e.name;
    if (!(await canStart(program, [...e.probe]))) {
      console.log(`  ${e.name.padEnd(10)} not installed`);
      continue;
    }
    const started = performance.now();
    const inTime = () => performance.now() - started < MAX_MS_PER_ENGINE;
    // Warm both paths once (page cache, filter bank), then alternate to share any machine noise.
    await engineAlone(e.name, message(0, e.name), join(dir, 'alone.wav'));
    await audio.speechUrl(message(0, `${e.name}w`), { voice: e.name });
    // A running server's audio threads are up (the first render started them).
    await audio.pcm.whenOnline();
    const alone: number[] = [];
    const uncached: number[] = [];
    const cpu = { alone: [] as number[], uncached: [] as number[] };
    const timeAlone = async (n: number) => {
      const c0 = mainThreadCpuMs?.() ?? 0;
      const t0 = performance.now();
      await engineAlone(e.name, message(n, e.name), join(dir, 'alone.wav'));
      alone.push(performance.now() - t0);
      if (mainThreadCpuMs) cpu.alone.push(mainThreadCpuMs() - c0);
    };
    const timePipeline = async (n: number) => {
      const c0 = mainThreadCpuMs?.() ?? 0;
      const t0 = performance.now();
      await audio.speechUrl(message(n, `${e.name}p`), { voice: e.name });
      uncached.push(performance.now() - t0);
      if (mainThreadCpuMs) cpu.uncached.push(mainThreadCpuMs() - c0);
    };
    for (let n = 1; n <= e.runs && inTime(); n++) {
      // Alternate which goes first, so drift in machine load falls on both.
      if (n % 2) {
        await timeAlone(n);
        await timePipeline(n);
      } else {
        await timePipeline(n);
        await timeAlone(n);
      }
    }
    const cached: number[] = [];
    for (let n = 0; n < CACHED_RUNS; n++) {
      const t0 = performance.now();
      await audio.speechUrl(message(1, `${e.name}p`), { voice: e.name });
      cached.push(performance.now() - t0);
    }
    // Throughput: new texts, 4 at a time, for a bounded count.
    const total = e.runs * 2;
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < total) {
        const n = next++;
        await audio.speechUrl(message(1000 + n, `${e.name}t`), { voice: e.name });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const perSecond = total / ((performance.now() - t0) / 1000);
    const a = stats(alone);
    const u = stats(uncached);
    const c = stats(cached);
    const goal = RATIO_GOAL[e.name] ?? 1.5;
    console.log(`  ${e.name}: engine alone p99 ${a.p99.toFixed(1)} ms, uncached p99 ${u.p99.toFixed(1)} ms (n=${u.n})`);
    report({
      bench: BENCH,
      what: `${e.name}: uncached speechUrl, median`,
      value: u.p50,
      unit: 'ms',
      reference: { what: `${e.name} alone on the same text`, value: a.p50 },
      goal: { text: `<= ${goal}x reference`, met: u.p50 <= goal * a.p50 },
    });
    report({
      bench: BENCH,
      what: `${e.name}: cached speechUrl, median`,
      value: c.p50,
      unit: 'ms',
      reference: { what: `${e.name} alone on the same text`, value: a.p50 },
      goal: { text: '<= 5 ms', met: c.p50 <= 5 },
    });
    if (cpu.uncached.length > 0)
      report({
        bench: BENCH,
        what: `${e.name}: main-thread CPU per uncached speechUrl, median`,
        value: stats(cpu.uncached).p50,
        unit: 'ms',
        reference: { what: `${e.name} alone on the same text, main-thread CPU`, value: stats(cpu.alone).p50 },
      });
    report({
      bench: BENCH,
      what: `${e.name}: new texts rendered per second, 4 at a time`,
      value: perSecond,
      unit: '/s',
      reference: { what: `${e.name} alone, one at a time`, value: 1000 / a.p50 },
    });
  }
} finally {
  await audio.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
