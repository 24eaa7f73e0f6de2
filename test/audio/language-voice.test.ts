/**
 * The voice follows the language: espeak-ng speaks each language with its
 * own voice; flite and festival speak only English, so other languages fall
 * back to espeak-ng and the log says so (once per engine and language); a
 * voice configured for a language wins. The cache keys differ per voice, so a
 * text cached in one language is never played in another.
 */
import { join } from 'node:path';
import t from 'tap';
import { CATALOGUES } from '../../src/ivr/prompts.js';
import { capturedLog } from '../support/env.js';
import { audioFixture, soxi } from './helpers.js';

t.test('espeak-ng speaks each language with its own voice, cached apart', async (t) => {
  const fx = audioFixture(t.testdir({}));
  t.teardown(fx.close);
  const en = await fx.audio.speechUrl('Hola, buenos días.', { language: 'en' });
  const es = await fx.audio.speechUrl('Hola, buenos días.', { language: 'es-MX' });
  t.not(en, es, 'two voices, two audio files');
  t.same(
    fx.engines['espeak-ng'].received.map((r) => r.voice),
    ['en-us', 'es'],
    'the default voice for English, the Spanish voice for Spanish',
  );
  t.equal(await fx.audio.speechUrl('Hola, buenos días.', { language: 'es' }), es, 'es and es-MX share the voice');
  t.equal(fx.calls(), 2, 'the second Spanish request is a cache hit');
  await t.rejects(fx.audio.speechUrl('Hola', { language: 'x-private' }), { code: 'AUDIO_VOICE_UNKNOWN' });
  t.equal(
    fx.audio.speechId('Hola', { language: 'en' }),
    fx.audio.speechId('Hola'),
    'English is the voice it always was',
  );
});

t.test('flite cannot speak Spanish: espeak-ng does, and the log says so once', async (t) => {
  const { lines, log } = capturedLog();
  const fx = audioFixture(t.testdir({}), { defaultEngine: 'flite' }, { log });
  t.teardown(fx.close);
  await fx.audio.speechUrl('Good morning.', { language: 'en-GB' });
  t.equal(fx.engines.flite.calls, 1, 'English stays on flite');
  const url = await fx.audio.speechUrl('Buenos días.', { language: 'es' });
  await fx.audio.speechUrl('Hasta luego.', { language: 'es' });
  t.equal(fx.engines.flite.calls, 1);
  t.same(
    fx.engines['espeak-ng'].received.map((r) => r.voice),
    ['es', 'es'],
  );
  const told = lines.filter((l) => /cannot speak this language/.test(String(l.msg)));
  t.equal(told.length, 1, 'said once');
  t.match(told[0], { engine: 'flite', language: 'es', fallback: 'espeak-ng' });
  const file = await fx.audio.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(url)?.[1] as string, 'wav');
  t.equal(soxi(file.path).rate, 8000, 'real telephony audio');
});

t.test('a voice configured for a language wins', async (t) => {
  const dir = t.testdir({});
  const fx = audioFixture(join(dir, 'a'), {
    voices: {
      'espeak-ng': { engine: 'espeak-ng', voice: 'en-us' },
      'german-slow': { engine: 'espeak-ng', voice: 'de', ratePercent: 80 },
    },
  });
  t.teardown(fx.close);
  // language.voices comes from the whole config: build a second fixture with it.
  const fx2 = audioFixture(
    join(dir, 'b'),
    {
      voices: {
        'espeak-ng': { engine: 'espeak-ng', voice: 'en-us' },
        'german-slow': { engine: 'espeak-ng', voice: 'de', ratePercent: 80 },
      },
    },
    { language: { voices: { de: 'german-slow' } } },
  );
  t.teardown(fx2.close);
  await fx2.audio.speechUrl('Guten Tag.', { language: 'de-AT' });
  t.match(fx2.engines['espeak-ng'].received.at(-1), { voice: 'de', ratePercent: 80 });
  await fx2.audio.speechUrl('Bonjour.', { language: 'fr' });
  t.match(fx2.engines['espeak-ng'].received.at(-1), { voice: 'fr', ratePercent: 100 }, 'no voice for French: its own');
  await fx.audio.speechUrl('Guten Tag.', { language: 'de' });
  t.match(fx.engines['espeak-ng'].received.at(-1), { voice: 'de', ratePercent: 100 });
});

t.test('Spanish prompts are served from their own catalogue', async (t) => {
  const fx = audioFixture(
    t.testdir({}),
    {},
    {
      promptCatalogues: Object.fromEntries(Object.entries(CATALOGUES).map(([l, c]) => [l, c.prompts])),
    },
  );
  t.teardown(fx.close);
  const url = await fx.audio.promptUrl('goodbye', { language: 'es' });
  t.equal(fx.audio.textFor(url), 'Adiós.');
  t.equal(fx.audio.textFor(await fx.audio.promptUrl('goodbye', { language: 'en' })), 'Goodbye.');
  await t.rejects(fx.audio.promptUrl('goodbye', { language: 'it' }), { code: 'AUDIO_PROMPT_UNKNOWN' });
});

t.test('a language voice that names no voice is misuse, refused with a code', async (t) => {
  const { LanguageVoices } = await import('../../src/audio/language-voice.js');
  const { silentLogger } = await import('../../src/core/logger.js');
  const voices = new LanguageVoices({ voices: {} }, { fr: 'nobody' }, silentLogger());
  const base = { engine: 'espeak-ng' as const, voice: 'en-us', ratePercent: 100 };
  t.throws(() => voices.resolve(base, 'fr'), { code: 'AUDIO_VOICE_UNKNOWN' });
  t.equal(voices.resolve(base, undefined), base);
});
