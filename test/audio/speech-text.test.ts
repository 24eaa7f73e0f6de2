import t from 'tap';
import { speechText } from '../../src/audio/speech-text.js';
import { audioFixture } from './helpers.js';

const SAFE = /^[\p{L}\p{M}\p{N} .,?!'\-:;]+$/u;
const say = (s: string) => speechText(s, { maxChars: 2000 });

t.test('text is made speakable', async (t) => {
  t.equal(say('Meet me at 10:42.'), 'Meet me at ten forty-two.');
  t.equal(say('At 9:05 pm or 14:00'), 'At nine oh five p m or fourteen hundred');
  t.equal(say('Lunch at 12:00 pm'), "Lunch at twelve o'clock p m");
  t.equal(say('Call +1 555-010-1234 now'), 'Call 1 5 5 5 0 1 0 1 2 3 4, now');
  t.equal(say('See https://www.example.com/path?q=1 for more'), 'See a link to example dot com for more');
  t.equal(say('Mail bob.smith@example.org'), 'Mail bob smith at example dot org');
  const inLanguage = (language: string, text: string) => speechText(text, { maxChars: 2000, language });
  t.equal(
    inLanguage('es', 'Mira https://www.ejemplo.es/a y escribe a ana.gil@correo.es'),
    'Mira un enlace a ejemplo punto es y escribe a ana gil arroba correo punto es',
    'a Spanish text says links and addresses in Spanish',
  );
  t.equal(
    inLanguage('fr-CA', 'Voir http://exemple.ca, ou luc@exemple.ca'),
    'Voir un lien vers exemple point ca, ou luc arobase exemple point ca',
  );
  t.equal(inLanguage('de', 'Siehe https://beispiel.de'), 'Siehe ein Link zu beispiel Punkt de');
  t.equal(
    inLanguage('pt', 'Veja https://exemplo.pt'),
    'Veja a link to exemplo dot pt',
    'English words where none are known',
  );
  t.equal(say('Great job 👍🏽🎉 see you 🦄'), 'Great job thumbs up, party, see you');
  t.equal(say('1,000,000 people & 50% of $5'), '1000000 people and 50 percent of 5 dollars');
  t.equal(say("Wow!!! Really??? Don't..."), "Wow! Really? Don't.");
  t.equal(say('line one\nline two\ttabbed\u0007bell'), 'line one line two tabbed bell');
  t.equal(say('ｆｕｌｌｗｉｄｔｈ'), 'fullwidth');
});

t.test('markup and engine commands from users reach no engine', async (t) => {
  t.equal(say('<speak><prosody rate="x-fast">hi</prosody></speak>'), 'hi');
  t.equal(say('(SayText "rm -rf /")'), 'SayText rm -rf');
  t.equal(say("[[h@l'oU]] done"), "h at l'oU, done");
  t.equal(say('\\\\ back\\slash "quoted" `tick`'), "back slash quoted 'tick'");
  for (const s of ['<audio src="x"/>', '(((', '"\'"', '... !!! ???', '🙂'.slice(0, 1)])
    t.throws(() => say(s), { code: /AUDIO_TEXT_(EMPTY|INVALID)/ }, JSON.stringify(s));
  t.throws(() => say('🦄🦄'), { code: 'AUDIO_TEXT_EMPTY', message: /nothing that can be spoken/ });
  t.throws(() => say('x'.repeat(2001)), { code: 'AUDIO_TEXT_TOO_LONG', message: /2001 characters; the limit is 2000/ });
  t.throws(() => speechText(42, { maxChars: 10 }), { code: 'AUDIO_TEXT_INVALID' });
});

t.test('hostile text is spoken safely or refused before any engine, which receives only plain text', async (t) => {
  const fx = audioFixture(t.testdir({}), { maxTextChars: 2000 });
  t.teardown(fx.close);
  const spoken = [
    'She said "hello" and left.',
    "It's (probably) fine; isn't it?",
    'C:\\Users\\alice\\file.txt',
    '(voice_kal_diphone) (SayText "owned") (system "touch /tmp/pwned")',
    '<speak><break time="10s"/>Hi</speak>',
    'Love it ❤️😂👍',
    '-v xx --stdout; rm -rf / `id` $(id) | cat',
    'x'.repeat(1990),
  ];
  for (const text of spoken) await fx.audio.speechUrl(text);
  const received = fx.engines['espeak-ng'].received.map((r) => r.text);
  t.equal(received.length, spoken.length);
  for (const r of received) t.match(r, SAFE, 'only letters, digits, spaces and plain punctuation');
  t.notOk(
    received.some((r) => /["\\()<>`$|]/.test(r)),
    'no quote, backslash, parenthesis, angle bracket, backtick, dollar or pipe',
  );
  t.match(received[5], /heart.*tears of joy.*thumbs up/);
  const before = fx.calls();
  await t.rejects(fx.audio.speechUrl('a'.repeat(10_000)), { code: 'AUDIO_TEXT_TOO_LONG' });
  await t.rejects(fx.audio.speechUrl('?!.,;:()[]{}""\'\'...'), { code: 'AUDIO_TEXT_EMPTY' });
  await t.rejects(fx.audio.speechUrl('\ud800 lone surrogate'), { code: 'AUDIO_TEXT_INVALID' });
  await t.resolves(fx.audio.prerender('\ud800 lone surrogate'), 'prerender never fails a message; it skips');
  t.equal(fx.calls(), before, 'refused text never reached an engine');
});

t.test('10,000 characters are spoken when the limit allows it', async (t) => {
  const fx = audioFixture(t.testdir({}), { maxTextChars: 10_000 });
  t.teardown(fx.close);
  const text = 'Word. '.repeat(1666).slice(0, 10_000);
  await fx.audio.speechUrl(text);
  const f = await fx.audio.fileFor(fx.audio.speechId(text), 'wav');
  t.ok(f.durationMs > 60_000, `long text makes long audio (${f.durationMs} ms)`);
});
