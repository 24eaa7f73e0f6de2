/** Shared scaffolding for the audio tests: a service on a temporary data directory, with engines that count and record. */
import { PROMPTS } from '../../src/ivr/prompts.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AudioService, type AudioServiceDeps } from '../../src/audio/audio-service.js';
import { createEngines, type EngineName, type SpeechEngine, type SynthesisRequest } from '../../src/audio/engines.js';
import { encodeWav } from '../../src/audio/wav.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { testConfig } from '../support/env.js';

/** A real engine wrapped so a test sees every call and the exact text it received. */
export class WatchedEngine implements SpeechEngine {
  readonly received: SynthesisRequest[] = [];
  constructor(readonly inner: SpeechEngine) {}
  get name(): EngineName {
    return this.inner.name;
  }
  get calls(): number {
    return this.received.length;
  }
  isAvailable(): Promise<boolean> {
    return this.inner.isAvailable();
  }
  synthesize(request: SynthesisRequest) {
    this.received.push(request);
    return this.inner.synthesize(request);
  }
}

export interface AudioFixture {
  audio: AudioService;
  /** The store (its file's rows are what the tests look at). */
  store: SqliteStore;
  clock: ManualClock;
  dir: string;
  engines: Record<EngineName, WatchedEngine>;
  /** Engine calls across all engines. */
  calls(): number;
  close(): Promise<void>;
}

export function watchedEngines(dir: string): Record<EngineName, WatchedEngine> {
  const real = createEngines({ tmpDir: join(dir, 'engine-tmp'), timeoutMs: 30_000 }, process.platform);
  return Object.fromEntries(Object.entries(real).map(([k, e]) => [k, new WatchedEngine(e)])) as Record<
    EngineName,
    WatchedEngine
  >;
}

export function audioFixture(
  dir: string,
  audioConfig: Record<string, unknown> = {},
  extra: Partial<AudioServiceDeps> & { clock?: ManualClock; engines?: Record<EngineName, WatchedEngine> } = {},
): AudioFixture {
  const config = testConfig(dir, { audio: { soundsDir: join(dir, 'sounds'), ...audioConfig } });
  const store = openSqliteStore({ path: join(dir, 'phoneim.sqlite'), nodeId: config.presence.nodeId });
  const clock = extra.clock ?? new ManualClock();
  const engines = extra.engines ?? watchedEngines(dir);
  const audio = new AudioService({
    config,
    store: store.audio,
    clock,
    log: silentLogger(),
    baseUrl: () => 'http://127.0.0.1:8080',
    prompts: PROMPTS,
    ...extra,
    engines,
  });
  let closed = false;
  return {
    audio,
    store,
    clock,
    dir,
    engines,
    calls: () => Object.values(engines).reduce((n, e) => n + e.calls, 0),
    close: async () => {
      if (closed) return;
      closed = true;
      await audio.close();
      await store.close();
    },
  };
}

/** soxi's view of a file: sample rate, channels, bits per sample, duration in seconds. */
export function soxi(path: string): { rate: number; channels: number; bits: number; seconds: number } {
  const q = (flag: string) => execFileSync('soxi', [flag, path], { encoding: 'utf8' }).trim();
  return { rate: Number(q('-r')), channels: Number(q('-c')), bits: Number(q('-b')), seconds: Number(q('-D')) };
}

/** ffprobe's view: codec name, sample rate, channels of the first audio stream, duration in seconds. */
export function ffprobe(path: string): { codec: string; rate: number; channels: number; seconds: number } {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'a:0',
      '-show_entries',
      'stream=codec_name,sample_rate,channels:format=duration',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const j = JSON.parse(out) as {
    streams: { codec_name: string; sample_rate: string; channels: number }[];
    format: { duration: string };
  };
  const s = j.streams[0];
  if (!s) throw new Error(`no audio stream in ${path}`);
  return { codec: s.codec_name, rate: Number(s.sample_rate), channels: s.channels, seconds: Number(j.format.duration) };
}

/** Mono 16-bit WAV bytes of silence, a tone and silence (milliseconds each), at a rate. */
export function toneWav(rate: number, silenceMs: number, toneMs: number, trailingMs = silenceMs): Buffer {
  const n = (ms: number) => Math.round((ms * rate) / 1000);
  const total = n(silenceMs) + n(toneMs) + n(trailingMs);
  const samples = new Int16Array(total);
  for (let i = 0; i < n(toneMs); i++)
    samples[n(silenceMs) + i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return encodeWav({ sampleRate: rate, samples });
}
