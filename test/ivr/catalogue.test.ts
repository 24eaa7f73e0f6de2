/**
 * The prompt catalogue in every language the platform speaks: complete (a
 * prompt missing or left in English in one of them fails here), with counts,
 * dates and lists in each language's forms.
 */
import t from 'tap';
import { checkLanguage, SUPPORTED_LANGUAGES } from '../../src/core/language.js';
import { CATALOGUES, PROMPT_IDS, phrases, promptText } from '../../src/ivr/prompts.js';

t.test('every language has every prompt, translated', async (t) => {
  t.same(Object.keys(CATALOGUES).sort(), [...SUPPORTED_LANGUAGES].sort(), 'a catalogue per supported language');
  for (const lang of SUPPORTED_LANGUAGES) {
    const prompts = CATALOGUES[lang].prompts as Record<string, string>;
    t.same(Object.keys(prompts).sort(), [...PROMPT_IDS].sort(), `${lang}: exactly the prompt ids`);
    for (const id of PROMPT_IDS) {
      t.ok(prompts[id]?.trim(), `${lang}: ${id} has a text`);
      if (lang !== 'en') t.not(prompts[id], CATALOGUES.en.prompts[id], `${lang}: ${id} is not the English text`);
    }
  }
  // The menu keys are the same in every language.
  for (const lang of SUPPORTED_LANGUAGES)
    t.same(
      promptText('mainMenu', lang).match(/\d/g),
      ['1', '2', '3', '4', '9'],
      `${lang}: the main menu offers 1, 2, 3, 4, 9`,
    );
  t.throws(() => promptText('nope', 'es'), { code: 'IVR_PROMPT_UNKNOWN' });
});

t.test('counts, dates and lists in each language', async (t) => {
  const now = Date.UTC(2026, 2, 10, 15, 0); // Tuesday 10 March 2026
  const es = phrases('es');
  t.equal(es.messageCount(0), 'No tiene mensajes nuevos.');
  t.equal(es.messageCount(1), 'Tiene 1 mensaje nuevo.');
  t.equal(es.messageCount(3), 'Tiene 3 mensajes nuevos.');
  t.equal(es.triesLeft(1), 'Le queda 1 intento.');
  t.equal(es.envelope('Alicia', Date.UTC(2026, 2, 10, 14, 42), now, 'UTC'), 'De Alicia, hoy a las 14:42.');
  t.equal(es.spokenWhen(Date.UTC(2026, 2, 7, 9, 0), now, 'UTC'), 'el sábado a las 09:00');
  t.equal(es.spokenWhen(Date.UTC(2026, 1, 3, 9, 0), now, 'UTC'), 'el 3 de febrero a las 09:00');
  t.equal(es.joinNames(['Ana', 'Luis', 'Eva']), 'Ana, Luis y Eva');
  t.equal(es.onlineList([{ spokenName: 'Ana', state: 'on-the-phone' }]), 'Ana está al teléfono.');

  const fr = phrases('fr-CA');
  t.equal(fr.messageCount(1), 'Vous avez 1 nouveau message.');
  t.equal(fr.messageCount(2), 'Vous avez 2 nouveaux messages.');
  t.equal(fr.spokenWhen(Date.UTC(2026, 2, 9, 8, 5), now, 'UTC'), 'hier à 08 h 05', 'Canadian French time');
  t.equal(phrases('fr').spokenWhen(Date.UTC(2026, 2, 9, 8, 5), now, 'UTC'), 'hier à 08:05');
  t.equal(fr.joinNames(['Ana', 'Luis']), 'Ana et Luis');
  t.equal(fr.ordinalMessage(1, 3), 'Message 2.');

  const de = phrases('de');
  t.equal(de.messageCount(1), 'Sie haben 1 neue Nachricht.');
  t.equal(de.messageCount(1234), 'Sie haben 1.234 neue Nachrichten.', 'German digit grouping');
  t.equal(de.spokenWhen(Date.UTC(2026, 1, 3, 9, 0), now, 'Europe/Berlin'), 'am 3. Februar um 10:00');
  t.equal(de.presenceSet('busy'), 'Ihr Status ist jetzt beschäftigt.');

  t.equal(phrases('en').messageCount(1234), 'You have 1,234 new messages.');
  t.equal(phrases('it').messageCount(2), 'You have 2 new messages.', 'no catalogue: English');
});

t.test('a language is a BCP 47 tag with a catalogue', async (t) => {
  t.equal(checkLanguage('es-mx'), 'es-MX');
  t.equal(checkLanguage('DE'), 'de');
  for (const bad of ['it', 'xx-', 'es_ES', '', 42, 'e'.repeat(40)])
    t.throws(() => checkLanguage(bad), { code: 'ACCOUNTS_LANGUAGE_UNSUPPORTED' }, `refused: ${String(bad)}`);
});
