import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PROMPTS } from '../../src/ivr/prompts.js';
import { progressBar } from '../../scripts/commands/prompts.js';
import { runPhonectl } from '../support/cli.js';
import { audioFixture, soxi } from './helpers.js';

const PROMPT_IDS = Object.keys(PROMPTS) as (keyof typeof PROMPTS)[];

t.test('a missing prompt is rendered on demand, then served from the cache', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const url = await fx.audio.promptUrl('mainMenu');
  t.match(url, /\/audio\/[0-9a-f]{32}\/\d+\/[\w-]{43}\.wav$/);
  t.equal(fx.audio.textFor(url), PROMPTS['mainMenu'], 'the IVR can tell what the caller heard');
  t.equal(await fx.audio.promptUrl('mainMenu'), url);
  t.equal(fx.calls(), 1);
  await t.rejects(fx.audio.promptUrl('no-such-prompt'), { code: 'AUDIO_PROMPT_UNKNOWN' });
  await t.rejects(fx.audio.promptUrl('__proto__'), { code: 'AUDIO_PROMPT_UNKNOWN' });
});

t.test('phonectl prompts render writes every prompt into sounds/ with a progress bar', async (t) => {
  const dir = t.testdir({});
  const sounds = join(dir, 'sounds');
  const env = { PHONEIM_AUDIO__SOUNDS_DIR: sounds };
  const r = await runPhonectl(['--data-dir', join(dir, 'data'), 'prompts', 'render'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`\\r\\[#{30}\\] ${PROMPT_IDS.length}/${PROMPT_IDS.length} error`));
  t.match(r.stdout, new RegExp(`rendered ${PROMPT_IDS.length} prompts into .* \\(${PROMPT_IDS.length} synthesised\\)`));
  for (const id of PROMPT_IDS) {
    const f = join(sounds, `${id}.wav`);
    t.ok(existsSync(f), id);
  }
  const s = soxi(join(sounds, 'enterPin.wav'));
  t.same({ rate: s.rate, channels: s.channels, bits: s.bits }, { rate: 8000, channels: 1, bits: 16 });
  const manifest = JSON.parse(readFileSync(join(sounds, 'manifest.json'), 'utf8'));
  t.equal(manifest['enterPin'].text, PROMPTS['enterPin']);

  const again = await runPhonectl(['--data-dir', join(dir, 'data'), '--json', 'prompts', 'render'], { env });
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { prompts: PROMPT_IDS.length, synthesized: 0 });

  // A fresh server (empty cache) with the rendered sounds folder synthesises nothing.
  const fx = audioFixture(join(dir, 'other'), { soundsDir: sounds });
  t.teardown(fx.close);
  const url = await fx.audio.promptUrl('enterPin');
  t.equal(fx.calls(), 0, 'taken from sounds/, not synthesised');
  t.equal(fx.audio.textFor(url), PROMPTS['enterPin']);
  const served = await fx.audio.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(url)?.[1] as string, 'wav');
  t.same(readFileSync(served.path), readFileSync(join(sounds, 'enterPin.wav')));

  const list = await runPhonectl(['--data-dir', join(dir, 'data'), 'prompts', 'list'], { env });
  // The list is what the IVR says (its own catalogue), e.g. the main menu a caller hears.
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /mainMenu\s+Main menu\. Press 1 to hear your messages, 2 to hear who is online/);
  t.match(list.stdout, /reverseOptions\s+Press 1 to accept, 2 to decline, or 3 to hear it again\./);
  t.equal(list.stdout.trim().split('\n').length, PROMPT_IDS.length + 1, 'every prompt of the catalogue, one a line');
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
