import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PROMPT_IDS, PROMPTS } from '../../src/audio/prompts.js';
import { progressBar } from '../../scripts/commands/prompts.js';
import { runEntry } from '../support/env.js';
import { audioFixture, soxi } from './helpers.js';

t.test('a missing prompt is rendered on demand, then served from the cache', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const url = await fx.audio.promptUrl('main-menu');
  t.match(url, /\/audio\/[0-9a-f]{32}\/\d+\/[\w-]{43}\.wav$/);
  t.equal(fx.audio.textFor(url), PROMPTS['main-menu'], 'the IVR can tell what the caller heard');
  t.equal(await fx.audio.promptUrl('main-menu'), url);
  t.equal(fx.calls(), 1);
  await t.rejects(fx.audio.promptUrl('no-such-prompt'), { code: 'AUDIO_PROMPT_UNKNOWN' });
  await t.rejects(fx.audio.promptUrl('__proto__'), { code: 'AUDIO_PROMPT_UNKNOWN' });
});

t.test('phonectl prompts render writes every prompt into sounds/ with a progress bar', async (t) => {
  const dir = t.testdir({});
  const sounds = join(dir, 'sounds');
  const env = { PHONEIM_AUDIO__SOUNDS_DIR: sounds };
  const r = await runEntry('scripts/phonectl.ts', ['--data-dir', join(dir, 'data'), 'prompts', 'render'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /\r\[#{30}\] 22\/22 goodbye/);
  t.match(r.stdout, new RegExp(`rendered ${PROMPT_IDS.length} prompts into .* \\(${PROMPT_IDS.length} synthesised\\)`));
  for (const id of PROMPT_IDS) {
    const f = join(sounds, `${id}.wav`);
    t.ok(existsSync(f), id);
  }
  const s = soxi(join(sounds, 'enter-pin.wav'));
  t.same({ rate: s.rate, channels: s.channels, bits: s.bits }, { rate: 8000, channels: 1, bits: 16 });
  const manifest = JSON.parse(readFileSync(join(sounds, 'manifest.json'), 'utf8'));
  t.equal(manifest['enter-pin'].text, PROMPTS['enter-pin']);

  const again = await runEntry(
    'scripts/phonectl.ts',
    ['--data-dir', join(dir, 'data'), '--json', 'prompts', 'render'],
    {
      env,
    },
  );
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { prompts: PROMPT_IDS.length, synthesized: 0 });

  // A fresh server (empty cache) with the rendered sounds folder synthesises nothing.
  const fx = audioFixture(join(dir, 'other'), { soundsDir: sounds });
  t.teardown(fx.close);
  const url = await fx.audio.promptUrl('enter-pin');
  t.equal(fx.calls(), 0, 'taken from sounds/, not synthesised');
  t.equal(fx.audio.textFor(url), PROMPTS['enter-pin']);
  const served = await fx.audio.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(url)?.[1] as string, 'wav');
  t.same(readFileSync(served.path), readFileSync(join(sounds, 'enter-pin.wav')));

  const list = await runEntry('scripts/phonectl.ts', ['--data-dir', join(dir, 'data'), 'prompts', 'list'], { env });
  t.match(list.stdout, /main-menu\s+To hear your new messages/);
});

t.test('a prompt rendered with another voice is not reused', async (t) => {
  const dir = t.testdir({});
  const one = audioFixture(dir);
  await one.audio.renderPrompts();
  await one.close();
  const two = audioFixture(join(dir, 'two'), { soundsDir: join(dir, 'sounds'), defaultEngine: 'flite' });
  t.teardown(two.close);
  await two.audio.promptUrl('goodbye');
  t.equal(two.engines.flite.calls, 1, 'the espeak-ng file does not stand in for flite');
});

t.test('the progress bar', async (t) => {
  t.equal(progressBar(0, 4, 'a'), `[${'.'.repeat(30)}] 0/4 a`);
  t.equal(progressBar(2, 4, 'b'), `[${'#'.repeat(15)}${'.'.repeat(15)}] 2/4 b`);
});
