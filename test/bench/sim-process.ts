/**
 * The softswitch simulator in a process of its own, as Asterisk and its
 * callers are to the platform: a bench forks this file (built, see
 * sim-child.ts), points its ARI application at the URL it reports, and asks
 * it over IPC to place calls whose callers follow a script of keys.
 *
 * The latency figure is taken here, at the simulator's edge, the way a
 * packet capture beside Asterisk would see it: from the moment the simulator
 * raises a step's last key (ChannelDtmfReceived) to the moment the first play
 * request for that channel arrives after it. Nothing of the application's
 * process is timed here, so its own clock and event loop cannot flatter it.
 *
 * Messages in: { type: 'run', ... } (see RunRequest), { type: 'idle', calls },
 * { type: 'release' }, { type: 'close' }. Messages out: { type: 'ready' },
 * { type: 'result' }, { type: 'idling' }, { type: 'released' }.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { startSimulator, type VirtualCaller } from '../../src/sim/index.js';
import type { SimChannel } from '../../src/sim/softswitch.js';
import { tone, writeWav } from '../../src/sim/wav.js';

/** One step of a caller's script: keys pressed one after another, the last one answered by a playback. */
export interface Step {
  keys: string;
  /** What kind of key the last one is, for the figures ('pin #', 'message key', 'menu key'). */
  kind: string;
  /** Pause before each key after the first, ms. */
  gapMs?: number;
}

export interface RunRequest {
  type: 'run';
  /** The Stasis application the calls go to. */
  app: string;
  calls: number;
  /** Calls are placed evenly over this many ms. */
  rampMs: number;
  /** The caller's number for call i is numbers[i % numbers.length]. */
  numbers: string[];
  steps: Step[];
  /** How long a caller listens to a playback before pressing the next step's first key, ms. */
  thinkMs: number;
  /** How long a caller waits for the application to hang up after its last step, ms. */
  endWaitMs: number;
  /** The whole run ends (callers hang up) after this long, ms. */
  maxMs: number;
}

export interface RunResult {
  type: 'result';
  /** Latencies (ms) by step kind. */
  latencies: Record<string, number[]>;
  placed: number;
  /** Calls whose every step was answered by a playback. */
  completed: number;
  /** Why the others did not complete, with counts. */
  failures: Record<string, number>;
  /** Calls the application hung up itself after the last step. */
  endedByApp: number;
  seconds: number;
}

const speed = Number(process.argv[2] ?? 1) || 1;
const send = (m: unknown) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'bench-sim-'));
// The trivial application's fixed prompt: two seconds of tone.
writeFileSync(join(dir, 'menu-prompt.wav'), writeWav(tone(2000, 8000), 8000));
const sim = await startSimulator({
  user: 'bench',
  password: 'bench-secret',
  soundsDir: dir,
  log: silentLogger(),
  speedFactor: speed,
  controlPort: null,
});

// ---- the simulator's edge: a step's last key raised -> the next play request on that channel ----------
const sw = sim.softswitch;
const armed = new Map<string, string>();
const keyAt = new Map<string, { kind: string; at: number }>();
let latencies: Record<string, number[]> = {};
const dtmf = sw.dtmf.bind(sw);
sw.dtmf = (ch: SimChannel, digit: string, ms: number) => {
  const kind = armed.get(ch.id);
  if (kind !== undefined) {
    armed.delete(ch.id);
    keyAt.set(ch.id, { kind, at: performance.now() });
  }
  dtmf(ch, digit, ms);
};
const play = sw.play.bind(sw);
sw.play = (id, media, pb, lang) => {
  const k = keyAt.get(id);
  if (k !== undefined) {
    keyAt.delete(id);
    const list = latencies[k.kind] ?? [];
    list.push(performance.now() - k.at);
    latencies[k.kind] = list;
  }
  return play(id, media, pb, lang);
};

/** The first playback that starts after the caller had heard `seen` of them. */
function playbackAfter(c: VirtualCaller, seen: number, timeoutMs: number) {
  return c.waitForPlayback(() => c.playbacks.length > seen, timeoutMs);
}

async function runCalls(r: RunRequest): Promise<RunResult> {
  latencies = {};
  const start = performance.now();
  const left = () => Math.max(1, r.maxMs - (performance.now() - start));
  const failures: Record<string, number> = {};
  let completed = 0;
  let endedByApp = 0;
  let placed = 0;
  const fail = (why: string) => {
    failures[why] = (failures[why] ?? 0) + 1;
  };
  const one = async (i: number) => {
    await sleep((r.rampMs * i) / r.calls);
    if (performance.now() - start > r.maxMs) return;
    placed++;
    const c = sim.placeCall({ from: r.numbers[i % r.numbers.length] as string, to: '100', app: r.app });
    let step = -1;
    try {
      await c.nextPlayback(left());
      for (step = 0; step < r.steps.length; step++) {
        const s = r.steps[step] as Step;
        await sleep(r.thinkMs);
        if (!c.isUp) throw new Error('hung up by the application');
        const head = s.keys.slice(0, -1);
        if (head) await c.pressKeys(head, { gapMs: s.gapMs ?? 250 });
        const seen = c.playbacks.length;
        armed.set(c.channelId, s.kind);
        await c.pressKeys(s.keys.slice(-1), { gapMs: s.gapMs ?? 250 });
        await playbackAfter(c, seen, left());
      }
      completed++;
      const end = await Promise.race([c.ended, sleep(Math.min(r.endWaitMs, left())).then(() => undefined)]);
      if (end?.by === 'app') endedByApp++;
    } catch (e) {
      fail(`step ${step}: ${String((e as Error).message).slice(0, 40)}`);
    } finally {
      armed.delete(c.channelId);
      keyAt.delete(c.channelId);
      if (c.isUp) await c.hangup();
    }
  };
  await Promise.all(Array.from({ length: r.calls }, (_, i) => one(i)));
  return {
    type: 'result',
    latencies,
    placed,
    completed,
    failures,
    endedByApp,
    seconds: (performance.now() - start) / 1000,
  };
}

// ---- idle calls: placed, answered, left waiting until released ------------------------------------
let idle: VirtualCaller[] = [];

process.on('message', (m: { type: string } & Record<string, unknown>) => {
  void (async () => {
    if (m.type === 'run') send(await runCalls(m as unknown as RunRequest));
    else if (m.type === 'idle') {
      const calls = Number(m.calls);
      const numbers = m.numbers as string[];
      for (let i = 0; i < calls; i++) {
        if (i > 0 && i % 20 === 0) await sleep(10);
        idle.push(sim.placeCall({ from: numbers[i % numbers.length] as string, to: '100', app: String(m.app) }));
      }
      // Each call is idle once the application has started playing to it.
      const waitMs = Number(m.maxMs);
      const got = await Promise.all(
        idle.map((c) =>
          c.nextPlayback(waitMs).then(
            () => 1,
            () => 0,
          ),
        ),
      );
      send({ type: 'idling', calls: idle.filter((c) => c.isUp).length, answered: got.reduce((a, b) => a + b, 0) });
    } else if (m.type === 'release') {
      await Promise.all(idle.map((c) => (c.isUp ? c.hangup() : undefined)));
      idle = [];
      send({ type: 'released' });
    } else if (m.type === 'close') {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  })().catch((e: Error) => send({ type: 'error', message: e.message }));
});
// The parent went away: nothing left to serve.
process.on('disconnect', () => {
  void sim.close().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});

send({ type: 'ready', ariUrl: sim.ariUrl, amiPort: sim.amiPort, user: sim.user, password: sim.password, app: sim.app });
