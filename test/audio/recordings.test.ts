import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AudioService } from '../../src/audio/audio-service.js';
import { parseWav } from '../../src/audio/wav.js';
import { silentLogger } from '../../src/core/logger.js';
import { testConfig } from '../support/env.js';
import { audioFixture, ffprobe, soxi, toneWav } from './helpers.js';

t.test('a recorded reply is stored, measured, trimmed and linked', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  // What Asterisk records at 16 kHz: 1.5 s of silence, 2 s of voice, 1 s of silence.
  const data = toneWav(16000, 1500, 2000, 1000);
  const rec = await fx.audio.storeRecording({ data, userId: 7, sessionId: 'sess-1', format: 'wav16' });
  t.ok(rec.durationMs >= 2000 && rec.durationMs <= 2400, `trimmed to the sound plus margins (${rec.durationMs} ms)`);
  t.equal(rec.isSilent, false);
  t.match(rec.wavUrl, new RegExp(`/audio/${rec.id}/\\d+/[\\w-]{43}\\.wav$`));
  t.match(rec.mp3Url, /\.mp3$/);
  t.match(rec.oggUrl, /\.ogg$/);

  const wav = await fx.audio.fileFor(rec.id, 'wav');
  const s = soxi(wav.path);
  t.same({ rate: s.rate, channels: s.channels, bits: s.bits }, { rate: 8000, channels: 1, bits: 16 });
  t.ok(Math.abs(s.seconds * 1000 - rec.durationMs) < 5);
  const original = join(fx.audio.dir, rec.id.slice(0, 2), `${rec.id}.orig`);
  t.same(readFileSync(original), data, 'the original bytes are kept as received');

  t.match(await fx.audio.describe(rec.id), { kind: 'recording', userId: 7, sessionId: 'sess-1', messageId: null });
  await fx.audio.linkRecording(rec.id, { messageId: 'msg-42' });
  t.match(await fx.audio.describe(rec.id), { userId: 7, sessionId: 'sess-1', messageId: 'msg-42' });
  await t.rejects(fx.audio.linkRecording('f'.repeat(32), { messageId: 'x' }), { code: 'AUDIO_NOT_FOUND' });
  t.equal(fx.audio.textFor(rec.wavUrl), null, 'a recording has no text');

  const mp3 = await fx.audio.fileFor(rec.id, 'mp3');
  t.equal(mp3.contentType, 'audio/mpeg');
  const p = ffprobe(mp3.path);
  t.equal(p.codec, 'mp3');
  t.ok(Math.abs(p.seconds * 1000 - rec.durationMs) < 150, `MP3 as long as the WAV (${p.seconds} s)`);
  const attachment = await fx.audio.mp3For(rec.id);
  t.match(attachment, { filename: /^voice-message-[0-9a-f]{8}\.mp3$/, durationMs: rec.durationMs });
  t.same(attachment.content, readFileSync(mp3.path), 'the notifier attaches the same MP3');
  await t.rejects(fx.audio.mp3For('0'.repeat(32)), { code: 'AUDIO_NOT_FOUND' });
  t.equal(fx.audio.cacheSize, 0, 'recordings are not cache and are never evicted');
  t.equal(fx.calls(), 0);
});

t.test('recordings in other Asterisk formats are decoded with sox', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const dir = t.testdir({ 'in.wav': toneWav(8000, 500, 1000, 500) });
  const ulaw = execFileSync('sox', [join(dir, 'in.wav'), '-t', 'ul', '-']);
  const rec = await fx.audio.storeRecording({ data: ulaw, userId: 1, format: 'ulaw' });
  t.ok(rec.durationMs >= 1000 && rec.durationMs <= 1400, `${rec.durationMs} ms`);
  const gsm = execFileSync('sox', [join(dir, 'in.wav'), '-t', 'gsm', '-']);
  const rec2 = await fx.audio.storeRecording({ data: gsm, userId: 1, format: 'gsm', messageId: 'm1' });
  // GSM is lossy: its rendering of silence is faint noise, so less of it is cut.
  t.ok(rec2.durationMs >= 1000 && rec2.durationMs < 2000, `${rec2.durationMs} ms`);
  t.match(await fx.audio.describe(rec2.id), { messageId: 'm1' });
});

t.test('a silent recording is kept whole and flagged; garbage is refused and stores nothing', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const silent = await fx.audio.storeRecording({ data: toneWav(8000, 1000, 0, 1000), userId: 3 });
  t.equal(silent.isSilent, true);
  t.equal(silent.durationMs, 2000);
  await t.rejects(fx.audio.storeRecording({ data: Buffer.alloc(0), userId: 3 }), {
    code: 'AUDIO_RECORDING_INVALID',
    message: /empty/,
  });
  await t.rejects(fx.audio.storeRecording({ data: Buffer.from('not audio at all'), userId: 3 }), {
    code: 'AUDIO_RECORDING_INVALID',
  });
  await t.rejects(fx.audio.storeRecording({ data: Buffer.from('x'), userId: 3, format: 'exe' }), {
    code: 'AUDIO_RECORDING_INVALID',
    message: /"exe"/,
  });
  await t.rejects(fx.audio.storeRecording({ data: toneWav(8000, 0, 100), userId: Number.NaN }), {
    code: 'AUDIO_RECORDING_INVALID',
  });
  const rows = fx.store.db.prepare("SELECT COUNT(*) AS n FROM audio WHERE kind = 'recording'").get() as { n: number };
  t.equal(rows.n, 1, 'only the silent one was stored');
});

t.test('a reply recorded on one node is served by another node of the same store, from its own disk', async (t) => {
  // Two nodes: one store (as on PostgreSQL), two data directories (two machines' disks).
  const one = audioFixture(t.testdir({}));
  t.teardown(one.close);
  const dir = t.testdir({});
  const config = testConfig(dir, { audio: { soundsDir: join(dir, 'sounds') } });
  const other = new AudioService({
    config,
    store: one.store.audio,
    clock: one.clock,
    log: silentLogger(),
    baseUrl: () => 'http://127.0.0.1:8081',
  });
  t.teardown(() => other.close());
  await other.ready();
  const rec = await one.audio.storeRecording({ data: toneWav(8000, 200, 1500, 200), userId: 3 });

  const served = await other.fileFor(rec.id, 'wav');
  t.ok(served.path.startsWith(other.dir), "from the other node's own disk");
  t.same(readFileSync(served.path), readFileSync((await one.audio.fileFor(rec.id, 'wav')).path), 'the same WAV');
  t.equal(served.durationMs, rec.durationMs);
  t.equal(ffprobe((await other.fileFor(rec.id, 'mp3')).path).codec, 'mp3', 'and made into MP3 there');

  // A node whose disk lost the file (a new machine for the same data directory) takes it from the store again.
  rmSync(served.path);
  t.same(readFileSync((await other.fileFor(rec.id, 'wav')).path), readFileSync(served.path));
  await t.rejects(other.fileFor('ab'.repeat(16), 'wav'), { code: 'AUDIO_NOT_FOUND' }, 'an unknown id is still unknown');
  // A recording stored before the store kept its bytes (migration 011) is served by its own node only.
  const older = await one.audio.storeRecording({ data: toneWav(8000, 200, 500, 200), userId: 3 });
  one.store.db.prepare('UPDATE audio_files SET data = NULL WHERE audio_id = ?').run(older.id);
  t.ok((await one.audio.fileFor(older.id, 'wav')).bytes > 0);
  await t.rejects(other.fileFor(older.id, 'wav'), { code: 'AUDIO_NOT_FOUND' }, 'not on the other node');
  const speech = await one.audio.speechUrl('Rendered first on the first node.');
  const spoken = await other.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(speech)?.[1] as string, 'wav');
  t.ok(spoken.path.startsWith(other.dir), 'speech is never copied: the other node renders its own');
});

t.test('WAV parsing copes with what engines and Asterisk write', async (t) => {
  const good = toneWav(8000, 0, 100);
  const pipeWritten = Buffer.from(good);
  pipeWritten.writeUInt32LE(0, 40); // a data size left at 0 by a writer that could not seek
  t.equal(parseWav(pipeWritten)?.samples.length, 800);
  const overlong = Buffer.from(good);
  overlong.writeUInt32LE(0x7ffff000, 40);
  t.equal(parseWav(overlong)?.samples.length, 800);
  t.equal(parseWav(Buffer.from('RIFF....WAVEjunk')), null);
  t.equal(parseWav(good.subarray(0, 30)), null);
  const stereo = execFileSync('sox', [
    '-V1',
    '-n',
    '-r',
    '22050',
    '-c',
    '2',
    '-b',
    '24',
    '-t',
    'wav',
    '-',
    'synth',
    '0.5',
    'sine',
    '440',
  ]);
  const pcm = parseWav(stereo);
  t.equal(pcm?.sampleRate, 22050);
  t.equal(pcm?.samples.length, 11025, 'stereo 24-bit folds to mono');
  const float = execFileSync('sox', [
    '-V1',
    '-n',
    '-r',
    '8000',
    '-e',
    'floating-point',
    '-b',
    '32',
    '-t',
    'wav',
    '-',
    'synth',
    '0.25',
    'sine',
    '440',
  ]);
  t.equal(parseWav(float)?.samples.length, 2000);
  const alaw = execFileSync('sox', [
    '-V1',
    '-n',
    '-r',
    '8000',
    '-e',
    'a-law',
    '-t',
    'wav',
    '-',
    'synth',
    '0.25',
    'sine',
    '440',
  ]);
  t.equal(parseWav(alaw), null, 'a compressed WAV is not PCM: decoded by sox instead');
  t.ok(existsSync('/usr/bin/sox'));
});
