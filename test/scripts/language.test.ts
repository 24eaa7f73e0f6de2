/**
 * phonectl and languages: an admin sets a user's language (a refused tag
 * changes nothing), lists the catalogue in a language, and renders a
 * language's prompts into its own folder of the sounds directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PROMPT_IDS } from '../../src/ivr/prompts.js';
import { phonectl as cli } from '../support/cli.js';

t.test('phonectl user set-language', async (t) => {
  const run = cli(t.testdir({}));
  let r = await run(['user', 'add', 'bob', '--name', 'Bob']);
  t.equal(r.code, 0, r.stderr);
  r = await run(['user', 'set-language', 'bob', 'es-mx']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /bob now hears and reads es-MX/);
  r = await run(['--json', 'user', 'show', 'bob']);
  t.match(JSON.parse(r.stdout), { username: 'bob', language: 'es-MX' });

  r = await run(['user', 'set-language', 'bob', 'klingon!']);
  t.equal(r.code, 1, 'refused');
  t.match(r.stderr, /BCP 47/);
  r = await run(['user', 'set-language', 'bob', 'it']);
  t.equal(r.code, 1, 'a language without a catalogue is refused');
  t.match(r.stderr, /no catalogue for "it"; the platform speaks en, es, fr, de/);
  r = await run(['--json', 'user', 'show', 'bob']);
  t.match(JSON.parse(r.stdout), { language: 'es-MX' }, 'nothing changed');

  r = await run(['--json', 'user', 'set-language', 'bob', 'default']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { user: 'bob', language: null, effective: 'en' });
  r = await run(['--json', 'user', 'show', 'bob']);
  t.notOk('language' in JSON.parse(r.stdout), 'back to the default');
  r = await run(['user', 'set-language', 'nobody', 'fr']);
  t.equal(r.code, 1);
});

t.test('phonectl prompts list and render --language es', async (t) => {
  const dir = t.testdir({});
  const sounds = join(dir, 'sounds');
  const run = cli(join(dir, 'data'), { PHONEIM_AUDIO__SOUNDS_DIR: sounds });
  let r = await run(['prompts', 'list', '--language', 'de']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /goodbye\s+Auf Wiederhören\./);

  r = await run(['--json', 'prompts', 'render', '--language', 'es']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), {
    prompts: PROMPT_IDS.length,
    synthesized: PROMPT_IDS.length,
    language: 'es',
    soundsDir: join(sounds, 'es'),
  });
  for (const id of PROMPT_IDS) t.ok(existsSync(join(sounds, 'es', `${id}.wav`)), `es/${id}.wav`);
  t.notOk(existsSync(join(sounds, 'goodbye.wav')), 'the English folder is untouched');
  const manifest = JSON.parse(readFileSync(join(sounds, 'es', 'manifest.json'), 'utf8'));
  t.equal(manifest.goodbye.text, 'Adiós.');

  r = await run(['--json', 'prompts', 'render', '--language', 'es']);
  t.match(JSON.parse(r.stdout), { synthesized: 0 }, 'rendered once');
  r = await run(['prompts', 'render', '--language', 'xx']);
  t.equal(r.code, 1);
});
