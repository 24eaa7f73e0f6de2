import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseRange } from '../../src/audio/routes.js';
import { Platform } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { testConfig } from '../support/env.js';
import { ffprobe } from './helpers.js';

/** A GET with the path exactly as given (fetch would normalise "..") */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function start(t: Test) {
  const dir = t.testdir({});
  const clock = new ManualClock(Date.now());
  const platform = new Platform({ config: testConfig(dir), log: silentLogger(), clock });
  t.teardown(() => platform.stop());
  const base = await platform.start();
  return { platform, base, clock, audio: platform.services.audio, dir };
}

t.test('Asterisk fetches a signed WAV with the headers its media cache needs', async (t) => {
  const { base, audio } = await start(t);
  const url = await audio.speechUrl('You have 3 new messages.');
  t.ok(url.startsWith(`${base}/audio/`));
  t.ok(url.length > 60, 'a long URL (Asterisk fails on very short ones)');
  t.match(url, /\.wav$/, 'the extension names the format');
  const res = await fetch(url);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'audio/x-wav');
  t.equal(res.headers.get('accept-ranges'), 'bytes');
  t.match(res.headers.get('cache-control'), /^private, max-age=\d+$/);
  const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
  t.ok(maxAge >= 24 * 3600 && maxAge <= 30 * 3600, `max-age ${maxAge} within the URL's life`);
  t.ok(res.headers.get('expires'));
  const body = Buffer.from(await res.arrayBuffer());
  const file = await audio.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(url)?.[1] as string, 'wav');
  t.same(body, readFileSync(file.path), 'the bytes of the stored file');
  t.equal(body.toString('ascii', 0, 4), 'RIFF');
  t.equal(body.readUInt32LE(24), 8000, '8 kHz');
  t.equal(Number(res.headers.get('content-length')), body.length);

  const etag = res.headers.get('etag') as string;
  t.match(etag, /^"[0-9a-f]{32}-wav-\d+"$/);
  const again = await fetch(url, { headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  const head = await fetch(url, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(Number(head.headers.get('content-length')), body.length);
  t.equal((await head.arrayBuffer()).byteLength, 0);
});

t.test('range requests return the right bytes', async (t) => {
  const { audio } = await start(t);
  const url = await audio.speechUrl('Range requests return the right bytes.');
  const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
  const size = whole.length;
  const get = (range: string, extra: Record<string, string> = {}) => fetch(url, { headers: { range, ...extra } });

  const head = await get('bytes=0-43');
  t.equal(head.status, 206);
  t.equal(head.headers.get('content-range'), `bytes 0-43/${size}`);
  t.same(Buffer.from(await head.arrayBuffer()), whole.subarray(0, 44));

  const mid = await get('bytes=1000-1999');
  t.same(Buffer.from(await mid.arrayBuffer()), whole.subarray(1000, 2000));
  t.equal(mid.headers.get('content-length'), '1000');

  const open = await get('bytes=2000-');
  t.same(Buffer.from(await open.arrayBuffer()), whole.subarray(2000));

  const suffix = await get('bytes=-100');
  t.equal(suffix.headers.get('content-range'), `bytes ${size - 100}-${size - 1}/${size}`);
  t.same(Buffer.from(await suffix.arrayBuffer()), whole.subarray(size - 100));

  const past = await get(`bytes=${size}-`);
  t.equal(past.status, 416);
  t.equal(past.headers.get('content-range'), `bytes */${size}`);
  t.match(await past.json(), { error: { code: 'AUDIO_RANGE_NOT_SATISFIABLE' } });

  const multi = await get('bytes=0-1,5-9');
  t.equal(multi.status, 200, 'several ranges: the whole file');
  t.equal((await multi.arrayBuffer()).byteLength, size);
  const stale = await get('bytes=0-9', { 'if-range': '"other"' });
  t.equal(stale.status, 200, 'If-Range that does not match: the whole file');
  await stale.arrayBuffer();

  t.same(parseRange('bytes=5-2', 10), null);
  t.same(parseRange('bytes=-0', 10), 'unsatisfiable');
  t.same(parseRange('items=0-1', 10), null);
  t.same(parseRange('bytes=3-100', 10), { start: 3, end: 9 });
});

t.test('tampered or expired URLs get 403; anything not a signed path gets 404', async (t) => {
  const { base, audio, clock, dir } = await start(t);
  const url = await audio.speechUrl('Nobody may guess this audio.');
  const m = /\/audio\/([0-9a-f]{32})\/(\d+)\/([\w-]{43})\.wav$/.exec(url);
  if (!m) throw new Error(`unexpected URL ${url}`);
  const [, id, exp, sig] = m as unknown as [string, string, string, string];

  const flip = (s: string) => (s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`);
  const forged = [
    `/audio/${id}/${exp}/${flip(sig)}.wav`,
    `/audio/${id}/${Number(exp) + 3600}/${sig}.wav`,
    `/audio/${id}/${exp}/${sig}.mp3`,
    `/audio/${'0'.repeat(32)}/${exp}/${sig}.wav`,
  ];
  for (const p of forged) {
    const r = await fetch(`${base}${p}`);
    t.equal(r.status, 403, p);
    t.match(await r.json(), { error: { code: 'AUDIO_URL_INVALID' } });
  }

  writeFileSync(join(dir, 'secret.txt'), 'top secret');
  const traversal = [
    '/audio/../../etc/passwd',
    '/audio/%2e%2e/%2e%2e/etc/passwd',
    `/audio/${id}/${exp}/..%2f..%2f..%2fphoneim.sqlite`,
    `/audio/..%2f..%2fsecret.txt`,
    `/audio/${id}/${exp}/${sig}.wav/../../../secret.txt`,
    `/audio/${id}/${exp}/${sig}.wav%00.txt`,
    `/audio/${id.toUpperCase()}/${exp}/${sig}.wav`,
    `/audio/${id}/${exp}/${sig}.txt`,
    '/audio/',
    '/audio/%ff',
  ];
  for (const p of traversal) {
    const r = await rawGet(base, p);
    t.equal(r.status, 404, p);
    t.notMatch(r.body, /top secret|root:|SQLite/);
  }

  clock.advance(31 * 3600 * 1000);
  const expired = await fetch(url);
  t.equal(expired.status, 403);
  t.match(await expired.json(), { error: { code: 'AUDIO_URL_EXPIRED' } });
  const fresh = await audio.speechUrl('Nobody may guess this audio.');
  t.not(fresh, url, 'a new URL is signed for the same audio');
  t.equal((await fetch(fresh)).status, 200);
});

t.test('MP3 and Ogg/Opus are made on first request, off the telephony path', async (t) => {
  const { audio } = await start(t);
  const wavUrl = await audio.speechUrl('Your voice message, attached as MP3.');
  const id = /\/audio\/([0-9a-f]{32})\//.exec(wavUrl)?.[1] as string;
  const mp3Url = audio.signedUrl(id, 'mp3');
  const [a, b] = await Promise.all([fetch(mp3Url), fetch(mp3Url)]);
  t.equal(a.status, 200);
  t.equal(a.headers.get('content-type'), 'audio/mpeg');
  t.same(Buffer.from(await a.arrayBuffer()), Buffer.from(await b.arrayBuffer()));
  const mp3 = await audio.fileFor(id, 'mp3');
  t.equal(ffprobe(mp3.path).codec, 'mp3');
  const ogg = await fetch(audio.signedUrl(id, 'ogg'));
  t.equal(ogg.headers.get('content-type'), 'audio/ogg; codecs=opus');
  await ogg.arrayBuffer();
  const oggFile = await audio.fileFor(id, 'ogg');
  const probe = ffprobe(oggFile.path);
  t.equal(probe.codec, 'opus');
  t.ok(Math.abs(probe.seconds * 1000 - oggFile.durationMs) < 150, 'same length as the WAV');
  t.throws(() => audio.signedUrl('../../etc/passwd', 'wav'), { code: 'AUDIO_NOT_FOUND' });
  await t.rejects(audio.fileFor('0'.repeat(32), 'wav'), { code: 'AUDIO_NOT_FOUND' });
});

t.test('a listener that hangs up mid-file does not disturb the server', async (t) => {
  const { base, audio } = await start(t);
  const text = 'A long message. '.repeat(60);
  const url = await audio.speechUrl(text);
  const path = new URL(url).pathname;
  const u = new URL(base);
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  }
  const res = await fetch(url);
  t.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  t.equal(body.length, Number(res.headers.get('content-length')));
  t.ok(body.length > 100_000, 'the whole file still comes through');
});
