import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { type Clock, ManualClock, SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { MediaResolver, measure } from '../../src/sim/media.js';
import { tone, writeWav } from '../../src/sim/wav.js';
import { promptServer, simulator, until, wav } from '../telephony/support.js';

const resolver = (soundsDir: string, clock: Clock = new SystemClock()) =>
  new MediaResolver({
    soundsDir,
    clock,
    log: silentLogger(),
    recordingDurationMs: (n) => (n === 'r1' ? 3000 : undefined),
  });

const stereo = (() => {
  const w = writeWav(Buffer.alloc(16000), 8000);
  w.writeUInt16LE(2, 22);
  return w;
})();

t.test('http prompts follow Asterisk format rules', async (t) => {
  const files: Record<string, [Buffer, Record<string, string>?]> = {
    '/audio/prompt-0001-8k.wav': [wav(1500)],
    '/audio/prompt-0002-16k.wav': [wav(1000, 16000)],
    '/audio/prompt-0003-16k.wav16': [wav(1000, 16000), { 'content-type': 'application/octet-stream' }],
    '/audio/prompt-0004-16k': [wav(1000, 16000), { 'content-type': 'audio/x-wav;codec=pcm;bit=16;rate=16000' }],
    '/audio/prompt-0005-44k.wav': [wav(500, 44100)],
    '/audio/prompt-0006-noext': [wav(500), { 'content-type': 'application/octet-stream' }],
    '/audio/prompt-0007-stereo.wav': [stereo],
    '/a.wav': [wav(500)],
    '/audio/prompt-0008-raw.sln': [Buffer.alloc(32000), { 'content-type': 'application/octet-stream' }],
  };
  const srv = await promptServer(t, files);
  const m = resolver(t.testdir({}));
  const play = (p: string) => m.resolve(`sound:${srv.url(p)}`);
  t.same(await play('/audio/prompt-0001-8k.wav'), { ok: true, durationMs: 1500 }, '.wav at 8 kHz plays');
  t.match(
    await play('/audio/prompt-0002-16k.wav'),
    { ok: false, reason: /frequency mismatch 16000/ },
    '.wav at 16 kHz fails',
  );
  t.same(await play('/audio/prompt-0003-16k.wav16'), { ok: true, durationMs: 1000 }, '.wav16 at 16 kHz plays');
  t.same(
    await play('/audio/prompt-0004-16k'),
    { ok: true, durationMs: 1000 },
    'the rate=16000 content type makes wav16',
  );
  t.match(await play('/audio/prompt-0005-44k.wav'), { ok: false }, '44.1 kHz fails');
  t.match(
    await play('/audio/prompt-0006-noext'),
    { ok: false, reason: /no format/ },
    'no extension, octet-stream fails',
  );
  t.match(await play('/audio/prompt-0007-stereo.wav'), { ok: false, reason: /mono/ });
  t.same(await play('/audio/prompt-0008-raw.sln'), { ok: true, durationMs: 2000 }, 'raw signed linear by extension');
  t.match(await play('/audio/prompt-0009-missing.wav'), { ok: false, reason: /404/ });
  t.match(await m.resolve('sound:http://127.0.0.1:1/unreachable-prompt-0001.wav'), {
    ok: false,
    reason: /could not fetch/,
  });
  const short = srv.url('/a.wav');
  t.ok(short.length < 30);
  t.match(
    await m.resolve(`sound:${short}`),
    { ok: false, reason: /does not exist in any format/ },
    'a short URL fails',
  );
  t.equal(srv.hits.get('/a.wav'), 1, '... after it was downloaded');
});

t.test('the media cache: refetched unless Cache-Control or Expires allow keeping it', async (t) => {
  const clock = new ManualClock(Date.now());
  const srv = await promptServer(t, {
    '/audio/prompt-0001-nocache.wav': [wav(100)],
    '/audio/prompt-0002-maxage.wav': [wav(100), { 'cache-control': 'max-age=60' }],
    '/audio/prompt-0003-expires.wav': [wav(100), { expires: new Date(clock.now() + 30_000).toUTCString() }],
  });
  const m = resolver(t.testdir({}), clock);
  for (let i = 0; i < 3; i++) {
    await m.resolve(`sound:${srv.url('/audio/prompt-0001-nocache.wav')}`);
    await m.resolve(`sound:${srv.url('/audio/prompt-0002-maxage.wav')}`);
    await m.resolve(`sound:${srv.url('/audio/prompt-0003-expires.wav')}`);
  }
  t.equal(srv.hits.get('/audio/prompt-0001-nocache.wav'), 3);
  t.equal(srv.hits.get('/audio/prompt-0002-maxage.wav'), 1);
  t.equal(srv.hits.get('/audio/prompt-0003-expires.wav'), 1);
  clock.advance(61_000);
  await m.resolve(`sound:${srv.url('/audio/prompt-0002-maxage.wav')}`);
  t.equal(srv.hits.get('/audio/prompt-0002-maxage.wav'), 2, 'fetched again once expired');
});

t.test('sound:, recording:, digits:, tone: and bad URIs', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, 'en', 'ivr'), { recursive: true });
  writeFileSync(join(dir, 'en', 'ivr', 'welcome.wav'), wav(2000));
  writeFileSync(join(dir, 'beep.wav16'), wav(250, 16000));
  writeFileSync(join(dir, 'bad.wav'), Buffer.from('not audio'));
  const m = resolver(dir);
  t.same(await m.resolve('sound:ivr/welcome'), { ok: true, durationMs: 2000 }, 'from the language folder');
  t.same(await m.resolve('sound:ivr/welcome'), { ok: true, durationMs: 2000 }, 'and again, cached');
  t.same(await m.resolve('sound:beep', 'fr'), { ok: true, durationMs: 250 }, 'falls back to the top folder');
  t.match(await m.resolve('sound:missing'), { ok: false, reason: /does not exist/ });
  t.match(await m.resolve('sound:../etc/passwd'), { ok: false, reason: /bad sound name/ });
  t.match(await m.resolve('sound:bad'), { ok: false, reason: /not a WAV/ });
  t.same(await m.resolve('recording:r1'), { ok: true, durationMs: 3000 });
  t.match(await m.resolve('recording:r2'), { ok: false });
  t.same(await m.resolve('digits:123'), { ok: true, durationMs: 1800 });
  t.match(await m.resolve('number:42'), { ok: true });
  t.match(await m.resolve('number:x'), { ok: false });
  t.match(await m.resolve('digits:'), { ok: false });
  t.same(await m.resolve('tone:ring;duration=500'), { ok: true, durationMs: 500 });
  t.same(
    await m.resolve('tone:ring'),
    { ok: true, durationMs: Number.POSITIVE_INFINITY },
    'a tone plays until stopped',
  );
  t.match(await m.resolve('video:x'), { ok: false, reason: /unsupported/ });
  t.match(await m.resolve('nothing'), { ok: false, reason: /no scheme/ });
  t.match(measure(Buffer.alloc(10), 'mp3'), { ok: false });
  t.same(measure(writeWav(tone(1000, 8000), 8000), 'wav'), { ok: true, durationMs: 1000 });
});

t.test('a playback lasts its duration divided by the speed factor', async (t) => {
  const clock = new ManualClock(Date.now());
  const dir = t.testdir({});
  writeFileSync(join(dir, 'two-seconds.wav'), wav(2000));
  const sim = await simulator(t, { clock, speedFactor: 4, soundsDir: dir });
  sim.softswitch.registerApp('phoneim');
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  sim.softswitch.play(caller.channelId, ['sound:two-seconds'], 'pb-1', undefined);
  clock.advance(0);
  const p = await caller.nextPlayback();
  const before = clock.pending;
  // The file is read for real: wait until its timer is set before moving the clock.
  await until('playback timer', () => clock.pending > before);
  clock.advance(499);
  t.equal(p.state, 'playing', `still playing just before 2000 / 4 ms`);
  clock.advance(1);
  t.equal(p.state, 'done');
  t.equal((p.endedAt ?? 0) - p.startedAt, 500);
});
