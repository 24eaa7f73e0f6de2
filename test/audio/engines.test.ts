import t from 'tap';
import { createEngines, run } from '../../src/audio/engines.js';
import { audioFixture, ffprobe, soxi } from './helpers.js';

const SHORT = 'Hello.';
const LONG =
  'From Alice, at ten forty-two: the meeting moved to Thursday afternoon, please bring the quarterly figures with you.';

const installed = createEngines({ tmpDir: '/tmp', timeoutMs: 5000 }, process.platform);

for (const engine of ['espeak-ng', 'flite', 'festival'] as const) {
  const skip = (await installed[engine].isAvailable()) ? false : `${engine} is not installed`;
  t.test(`${engine} speaks 8 kHz 16-bit mono telephony audio as long as the text`, { skip }, async (t) => {
    const fx = audioFixture(t.testdir({}), { defaultEngine: engine });
    t.teardown(fx.close);
    t.equal(fx.audio.textFor(await fx.audio.speechUrl(SHORT)), SHORT);
    const longUrl = await fx.audio.speechUrl(LONG);
    t.match(longUrl, /^http:\/\/127\.0\.0\.1:8080\/audio\/[0-9a-f]{32}\/\d+\/[\w-]{43}\.wav$/);
    t.equal(fx.engines[engine].calls, 2, 'each text synthesised once, by the configured engine');
    const short = await fx.audio.fileFor(fx.audio.speechId(SHORT), 'wav');
    const long = await fx.audio.fileFor(fx.audio.speechId(LONG), 'wav');
    for (const f of [short, long]) {
      const s = soxi(f.path);
      t.same({ rate: s.rate, channels: s.channels, bits: s.bits }, { rate: 8000, channels: 1, bits: 16 });
      const p = ffprobe(f.path);
      t.same({ codec: p.codec, rate: p.rate, channels: p.channels }, { codec: 'pcm_s16le', rate: 8000, channels: 1 });
      t.ok(Math.abs(p.seconds * 1000 - f.durationMs) < 50, 'the duration we record is the file duration');
    }
    const shortS = soxi(short.path).seconds;
    const longS = soxi(long.path).seconds;
    t.ok(shortS > 0.2 && shortS < 2.5, `"${SHORT}" lasts ${shortS} s`);
    // About 19 words: 3.5 to 12 seconds for any human-like speaking rate.
    t.ok(longS > 3.5 && longS < 12, `the long text lasts ${longS} s`);
    t.equal(short.contentType, 'audio/x-wav');
  });
}

t.test('a voice whose engine fails or is missing gives a coded error', async (t) => {
  const fx = audioFixture(t.testdir({}), {
    voices: {
      'espeak-ng': { engine: 'espeak-ng', voice: 'en-us' },
      broken: { engine: 'espeak-ng', voice: 'qqq-none' },
      mute: { engine: 'festival', voice: 'no_such_voice' },
      mac: { engine: 'say', voice: 'Samantha' },
    },
  });
  t.teardown(fx.close);
  await t.rejects(fx.audio.speechUrl('Hello there', { voice: 'broken' }), { code: 'AUDIO_ENGINE_FAILED' });
  await t.rejects(fx.audio.speechUrl('Hello there', { voice: 'mute' }), {
    code: 'AUDIO_ENGINE_FAILED',
    message: /wrote no audio/,
  });
  await t.rejects(fx.audio.speechUrl('Hello there', { voice: 'nobody' }), { code: 'AUDIO_VOICE_UNKNOWN' });
  if (process.platform !== 'darwin') {
    t.equal(await fx.engines.say.isAvailable(), false, 'say cannot export audio here');
    await t.rejects(fx.audio.speechUrl('Hello there', { voice: 'mac' }), { code: 'AUDIO_ENGINE_UNAVAILABLE' });
  }
  t.equal(fx.audio.textFor(fx.audio.speechId('Hello there', { voice: 'broken' })), null, 'a failure caches nothing');
});

t.test('an engine that is not installed is reported as unavailable', async (t) => {
  const engines = createEngines({ tmpDir: t.testdir({}), timeoutMs: 5000 }, 'linux');
  t.equal(await engines['espeak-ng'].isAvailable(), true);
  await t.rejects(run('no-such-program-phoneim', []), { code: 'ENOENT' });
  class Missing extends (engines.flite.constructor as typeof import('../../src/audio/engines.js').FliteEngine) {
    protected override readonly program = 'no-such-program-phoneim';
  }
  const missing = new Missing({ tmpDir: t.testdir({}), timeoutMs: 5000 });
  t.equal(await missing.isAvailable(), false);
  await t.rejects(missing.synthesize({ text: 'hi', voice: 'slt', ratePercent: 100 }), {
    code: 'AUDIO_ENGINE_UNAVAILABLE',
  });
});

t.test('config rejects a default voice that names no voice', async (t) => {
  const { loadConfig } = await import('../../src/core/config.js');
  t.throws(() => loadConfig({ env: {}, overrides: { audio: { defaultVoice: 'nope' } } }), {
    code: 'CORE_CONFIG_INVALID',
    message: /audio\.defaultVoice/,
  });
  t.throws(
    () => loadConfig({ env: {}, overrides: { audio: { voices: { x: { engine: 'flite', voice: '$(rm)' } } } } }),
    {
      code: 'CORE_CONFIG_INVALID',
      message: /audio\.voices\.x\.voice/,
    },
  );
});
