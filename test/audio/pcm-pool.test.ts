import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { type EngineName, EspeakEngine, type SpeechEngine, type SynthesisRequest } from '../../src/audio/engines.js';
import { inlineDecoder, PcmPool } from '../../src/audio/pcm-pool.js';
import { type Pcm, parseWav, resample } from '../../src/audio/wav.js';
import { silentLogger } from '../../src/core/logger.js';
import { audioFixture, WatchedEngine, watchedEngines } from './helpers.js';

const TEXT = 'From Alice, at ten forty-two: the meeting moved to Thursday afternoon, please bring the figures.';
const FAILING = new URL('../fixtures/pcm-failing-worker.ts', import.meta.url);

/** espeak-ng's WAV as it comes out of its pipe (RIFF sizes left unfilled). */
const engineWav = spawnSync('espeak-ng', ['--stdout', '-v', 'en-us', TEXT]).stdout;

const bytesOf = (p: Pcm | null) =>
  p ? Buffer.from(p.samples.buffer, p.samples.byteOffset, p.samples.byteLength) : null;

/** The WAV cut in pieces of odd sizes (a sample straddles two), each piece in memory of its own. */
function pieces(wav: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, n = 0; at < wav.length; n++) {
    const size = Math.min([4095, 1, 65536, 28673, 4096][n % 5] as number, wav.length - at);
    const piece = Buffer.from(new ArrayBuffer(size));
    wav.copy(piece, 0, at, at + size);
    out.push(piece);
    at += size;
  }
  return out;
}

const expected = resample(parseWav(engineWav) as Pcm, 8000);

// One pool for most tests (under the TypeScript loader a thread takes seconds to boot).
const shared = new PcmPool({ size: 1, log: silentLogger() });
t.teardown(() => shared.close());

t.test('until its thread is up, or with no threads, a pool reads on the calling thread', async (t) => {
  shared.warm();
  const early = shared.open(8000);
  for (const p of pieces(engineWav)) early.push(p);
  t.ok(bytesOf(await early.end())?.equals(bytesOf(expected) as Buffer), 'a render does not wait for a thread to boot');
  t.same(shared.jobs, { onThreads: 0, inline: 1 });

  const none = new PcmPool({ size: 0, log: silentLogger() });
  none.warm();
  const job = none.open(8000);
  job.push(Buffer.from(engineWav));
  t.ok(bytesOf(await job.end())?.equals(bytesOf(expected) as Buffer));
  t.same(none.jobs, { onThreads: 0, inline: 1 });
  await none.close();
});

t.test(
  'a thread reads the WAV in pieces and gives back, sample for sample, what the main thread computes',
  async (t) => {
    await shared.whenOnline();
    t.equal(shared.onlineThreads, 1);
    t.ok(expected.samples.length > 8000 * 3, 'a few seconds of speech');
    const job = shared.open(8000);
    const sent = pieces(engineWav);
    for (const p of sent) job.push(p);
    const got = await job.end();
    t.equal(got?.sampleRate, 8000);
    t.ok(bytesOf(got)?.equals(bytesOf(expected) as Buffer), 'the same samples as parseWav then resample');
    t.ok(
      sent.every((p) => p.length === 0),
      'each piece was handed over to the thread, not copied',
    );

    // Pieces that are views into a larger buffer are copied: the caller's buffer stays whole.
    const whole = Buffer.from(engineWav);
    const viewJob = shared.open(8000);
    for (let at = 0; at < whole.length; at += 10_000) viewJob.push(whole.subarray(at, at + 10_000));
    t.ok(bytesOf(await viewJob.end())?.equals(bytesOf(expected) as Buffer));
    t.ok(whole.equals(engineWav), "the caller's buffer is untouched");

    const inline = inlineDecoder.open(8000);
    for (const p of pieces(engineWav)) inline.push(p);
    t.ok(bytesOf(await inline.end())?.equals(bytesOf(expected) as Buffer), 'and the same on the calling thread');
  },
);

t.test('bytes that are not a WAV come back as no audio, and the thread goes on', async (t) => {
  await shared.whenOnline();
  const junk = shared.open(8000);
  junk.push(Buffer.from('this is not a RIFF file at all, only words'));
  t.equal(await junk.end(), null);
  const dropped = shared.open(8000);
  dropped.push(Buffer.from(engineWav.subarray(0, 1000)));
  dropped.drop();
  const next = shared.open(16000);
  next.push(Buffer.from(engineWav));
  t.equal((await next.end())?.sampleRate, 16000);
  t.equal(shared.deaths, 0);
});

t.test('the audio file is the same, byte for byte, whether its audio was read on a thread or not', async (t) => {
  await shared.whenOnline();
  for (const engine of ['espeak-ng', 'flite'] as const) {
    if (!(await watchedEngines(t.testdir({}))[engine].isAvailable())) continue;
    const before = shared.jobs.onThreads;
    const threaded = audioFixture(t.testdir({}), { defaultEngine: engine }, { pcm: shared });
    const inThread = audioFixture(
      t.testdir({}),
      { defaultEngine: engine },
      {
        pcm: new PcmPool({ size: 0, log: silentLogger() }),
      },
    );
    const files: Buffer[] = [];
    for (const fx of [threaded, inThread]) {
      await fx.audio.speechUrl(TEXT);
      files.push(readFileSync((await fx.audio.fileFor(fx.audio.speechId(TEXT), 'wav')).path));
    }
    t.equal(shared.jobs.onThreads, before + 1, `${engine}: read on a thread`);
    t.equal(inThread.audio.pcm.jobs.inline, 1, `${engine}: read on the main thread`);
    t.ok(files[0]?.equals(files[1] as Buffer), `${engine}: the same file`);
    t.ok((files[0]?.length ?? 0) > 44 + 8000 * 2 * 3, `${engine}: seconds of 8 kHz audio`);
    await threaded.close();
    await inThread.close();
  }
  t.equal(shared.onlineThreads, 1, 'a pool handed to a service is not closed with it');
});

/** espeak-ng whose first render makes the pool's (failing) thread stop while the engine speaks. */
class FailingOnce implements SpeechEngine {
  readonly name: EngineName = 'espeak-ng';
  private hasFailed = false;
  constructor(
    private readonly inner: SpeechEngine,
    private readonly pool: PcmPool,
  ) {}
  isAvailable() {
    return this.inner.isAvailable();
  }
  synthesize(r: SynthesisRequest) {
    const rendering = this.inner.synthesize(r);
    if (!this.hasFailed) this.pool.open(1);
    this.hasFailed = true;
    return rendering;
  }
}

t.test(
  'a thread that fails fails its renders with a clear error and is replaced; asked again, speech is rendered',
  async (t) => {
    const dir = t.testdir({});
    const pool = new PcmPool({ size: 1, log: silentLogger(), script: FAILING });
    t.teardown(() => pool.close());
    await pool.whenOnline();
    const held = pool.open(8000);
    held.push(Buffer.from(engineWav.subarray(0, 50_000)));
    const fatal = pool.open(1);
    await t.rejects(held.end(), { message: /the audio thread stopped \(the thread failed on purpose\)/ });
    await t.rejects(fatal.end(), { message: /the audio thread stopped/ });
    t.equal(pool.deaths, 1);
    await pool.whenOnline();
    t.equal(pool.onlineThreads, 1, 'a new thread took its place');
    const next = pool.open(8000);
    next.push(Buffer.from(engineWav));
    t.ok(bytesOf(await next.end())?.equals(bytesOf(expected) as Buffer), 'and reads the next job');

    const engines = watchedEngines(dir);
    engines['espeak-ng'] = new WatchedEngine(
      new FailingOnce(new EspeakEngine({ tmpDir: dir, timeoutMs: 30_000 }), pool),
    );
    const fx = audioFixture(dir, { defaultEngine: 'espeak-ng' }, { pcm: pool, engines });
    t.teardown(fx.close);
    await t.rejects(fx.audio.speechUrl(TEXT), {
      code: 'AUDIO_ENGINE_FAILED',
      message: /espeak-ng: the audio thread stopped/,
    });
    t.equal(pool.deaths, 2);
    const url = await fx.audio.speechUrl(TEXT);
    t.equal(fx.audio.textFor(url), TEXT, 'asked again, the text is rendered');
    t.equal(fx.engines['espeak-ng'].calls, 2);
  },
);
