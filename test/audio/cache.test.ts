import { existsSync } from 'node:fs';
import t from 'tap';
import { audioFixture, watchedEngines } from './helpers.js';

t.test('a cache hit performs no synthesis and keeps the same URL', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const first = await fx.audio.speechUrl('You have 2 new messages.');
  t.equal(fx.calls(), 1);
  const again = await fx.audio.speechUrl('You have 2 new messages.');
  t.equal(fx.calls(), 1, 'no engine ran for the second request');
  t.equal(again, first, 'the URL is stable, so Asterisk media cache hits too');
  await fx.audio.speechUrl('  You have 2 new messages.  ');
  t.equal(fx.calls(), 1, 'text that sanitises the same is the same audio');
  await fx.audio.speechUrl('You have 2 new messages.', { voice: 'flite' });
  t.equal(fx.calls(), 2, 'another voice is another key');
  t.equal(fx.engines.flite.calls, 1);
  t.equal(fx.audio.textFor(first), 'You have 2 new messages.');
});

t.test('50 concurrent requests for one new text synthesise once', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const text = 'Message from Bob: are we still on for lunch at 12:30?';
  const urls = await Promise.all(Array.from({ length: 50 }, () => fx.audio.speechUrl(text)));
  t.equal(fx.calls(), 1);
  t.equal(new Set(urls).size, 1, 'all 50 got the same URL');
  t.equal(fx.engines['espeak-ng'].received[0]?.text, 'Message from Bob: are we still on for lunch at twelve thirty?');
});

t.test('a failed synthesis is not cached and the next request tries again', async (t) => {
  const fx = audioFixture(t.testdir({}), {
    voices: {
      'espeak-ng': { engine: 'espeak-ng', voice: 'en-us' },
      broken: { engine: 'espeak-ng', voice: 'qqq-none' },
    },
  });
  t.teardown(fx.close);
  const attempts = await Promise.allSettled(
    Array.from({ length: 5 }, () => fx.audio.speechUrl('Hi', { voice: 'broken' })),
  );
  t.same(
    attempts.map((a) => a.status),
    ['rejected', 'rejected', 'rejected', 'rejected', 'rejected'],
  );
  t.equal(fx.calls(), 1, 'the five shared one failed attempt');
  await t.rejects(fx.audio.speechUrl('Hi', { voice: 'broken' }), { code: 'AUDIO_ENGINE_FAILED' });
  t.equal(fx.calls(), 2);
});

t.test('the pre-render queue is bounded: past audio.prerenderQueueMax the oldest waiting are dropped', async (t) => {
  const fx = audioFixture(t.testdir({}), { prerenderQueueMax: 3 });
  t.teardown(fx.close);
  const texts = Array.from({ length: 10 }, (_, i) => `Queued message number ${i + 1}.`);
  await Promise.all(texts.map((x) => fx.audio.prerender(x)));
  t.equal(fx.calls(), 5, 'two running and the three newest waiting were rendered');
  t.equal(fx.audio.prerenderDropped, 5, 'the five oldest waiting were dropped');
  const before = fx.calls();
  await fx.audio.speechUrl(texts[9] as string);
  t.equal(fx.calls(), before, 'the newest was rendered ahead');
  await fx.audio.speechUrl(texts[2] as string);
  t.equal(fx.calls(), before + 1, 'a dropped one is rendered when it is needed');
});

t.test('prerendering runs a few at a time and makes the later request a hit', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  let running = 0;
  let most = 0;
  const engine = fx.engines['espeak-ng'];
  const inner = engine.synthesize.bind(engine);
  engine.synthesize = async (r) => {
    running++;
    most = Math.max(most, running);
    try {
      return await inner(r);
    } finally {
      running--;
    }
  };
  const texts = Array.from({ length: 8 }, (_, i) => `Message number ${i + 1} for a phone user.`);
  await Promise.all(texts.map((x) => fx.audio.prerender(x)));
  t.equal(most, 2, 'at most two background syntheses at once');
  t.equal(fx.calls(), 8);
  for (const x of texts) await fx.audio.speechUrl(x);
  t.equal(fx.calls(), 8, 'every later request was a hit');
  await fx.close();
  await fx.audio.prerender('after close');
  t.equal(fx.calls(), 8, 'nothing is rendered after close');
  await t.rejects(fx.audio.speechUrl('after close'), { code: 'CORE_INTERNAL' });
});

t.test('the cache survives a restart', async (t) => {
  const dir = t.testdir({});
  const one = audioFixture(dir);
  const url = await one.audio.speechUrl('Your reply has been sent.');
  await one.audio.prerender('A message for later.');
  t.equal(one.calls(), 2);
  await one.close();

  const two = audioFixture(dir, {}, { engines: watchedEngines(dir) });
  t.teardown(two.close);
  t.equal(await two.audio.speechUrl('Your reply has been sent.'), url);
  await two.audio.speechUrl('A message for later.');
  t.equal(two.calls(), 0, 'both came from the files and index on disk');
  t.equal(two.audio.textFor(url), 'Your reply has been sent.');
  t.equal(two.audio.textFor('0123456789abcdef0123456789abcdef'), null);
  t.equal(two.audio.textFor('not a url'), null);
});

t.test('a file lost from disk is rendered again', async (t) => {
  const dir = t.testdir({});
  const one = audioFixture(dir);
  await one.audio.speechUrl('Gone missing.');
  const path = (await one.audio.fileFor(one.audio.speechId('Gone missing.'), 'wav')).path;
  await one.close();
  const { rmSync } = await import('node:fs');
  rmSync(path);
  const two = audioFixture(dir);
  t.teardown(two.close);
  await two.audio.speechUrl('Gone missing.');
  t.equal(two.calls(), 1);
  t.ok(existsSync(path));
});

t.test('over the size limit the least recently used speech is evicted', async (t) => {
  const fx = audioFixture(t.testdir({}), { cacheMaxBytes: 1024 * 1024 });
  t.teardown(fx.close);
  // Each of these is about 20 seconds of 8 kHz audio, some 320 KB.
  const long = (n: number) =>
    `Item ${n}. ${'This sentence is here to make the message long enough to fill the cache quickly. '.repeat(5)}`;
  const ids: string[] = [];
  for (let n = 1; n <= 3; n++) {
    await fx.audio.speechUrl(long(n));
    ids.push(fx.audio.speechId(long(n)));
    fx.clock.advance(5000);
  }
  t.ok(fx.audio.cacheSize <= 1024 * 1024, `three fit (${fx.audio.cacheSize} bytes)`);
  await fx.audio.speechUrl(long(1)); // item 1 is now the most recently used
  t.equal(fx.calls(), 3);
  fx.clock.advance(5000);
  for (let n = 4; n <= 5; n++) {
    await fx.audio.speechUrl(long(n));
    ids.push(fx.audio.speechId(long(n)));
    fx.clock.advance(5000);
  }
  t.ok(fx.audio.cacheSize <= 1024 * 1024, `the cache stays under its limit (${fx.audio.cacheSize} bytes)`);
  t.equal(fx.audio.textFor(ids[1] as string), null, 'item 2, the least recently used, went');
  t.not(fx.audio.textFor(ids[0] as string), null, 'item 1, used again, stayed');
  t.not(fx.audio.textFor(ids[4] as string), null, 'the newest stayed');
  await t.rejects(fx.audio.fileFor(ids[1] as string, 'wav'), { code: 'AUDIO_NOT_FOUND' });
  const before = fx.calls();
  await fx.audio.speechUrl(long(2));
  t.equal(fx.calls(), before + 1, 'an evicted text is rendered again on demand');
  const rows = fx.store.db.prepare("SELECT COUNT(*) AS n FROM audio WHERE kind = 'speech'").get() as { n: number };
  t.ok(rows.n >= 2 && rows.n <= 3, `the index holds only what is on disk (${rows.n})`);
});
