/**
 * Text on its way to a speech engine, sanitised once, here. Whatever a user
 * typed, an engine receives only letters, digits, spaces and the plain
 * punctuation that shapes prosody (. , ? ! ' - : ;): no control characters, no
 * markup (SSML, espeak or festival commands, scheme code), nothing an engine
 * could read as an instruction. On the way, what would sound wrong is said in
 * words: links by their site, emoji by their name, times as a person says
 * them, phone numbers digit by digit, a few symbols by name. Text that is too
 * long is refused; text with nothing to say is refused.
 */
import { AppError } from '../core/errors.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NOT_UTF8 = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const EMAIL_RE = /\b([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b/g;
const TAG_RE = /<\/?[A-Za-z!?][^<>]*>/g;
const TIME_RE = /\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?\s*(a\.?m\.?|p\.?m\.?)?(?![\w:])/gi;
const PHONE_RE = /(?<![\w.])\+?\d[\d\s().-]{5,}\d(?![\w.])/g;
const GROUPED_NUMBER_RE = /\b\d{1,3}(?:,\d{3})+\b/g;

const EMOJI: Record<string, string> = {
  '😀': 'grinning face',
  '😃': 'smiling face',
  '😄': 'smiling face',
  '😁': 'grinning face',
  '😂': 'tears of joy',
  '🤣': 'laughing',
  '😊': 'smiling face',
  '🙂': 'smiling face',
  '😉': 'winking face',
  '😍': 'heart eyes',
  '😘': 'blowing a kiss',
  '😢': 'crying face',
  '😭': 'crying face',
  '😡': 'angry face',
  '😮': 'surprised face',
  '🤔': 'thinking face',
  '🙁': 'frowning face',
  '☹': 'frowning face',
  '👍': 'thumbs up',
  '👎': 'thumbs down',
  '👏': 'applause',
  '🙏': 'folded hands',
  '👋': 'waving hand',
  '❤': 'heart',
  '💔': 'broken heart',
  '🎉': 'party',
  '🔥': 'fire',
  '✅': 'check mark',
  '❌': 'cross mark',
  '⭐': 'star',
  '☎': 'telephone',
  '📞': 'telephone',
  '🍕': 'pizza',
  '☕': 'coffee',
};
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
// Joiners, variation selectors, skin-tone modifiers and tag characters that decorate emoji.
const EMOJI_PARTS = /[\u200d\ufe0e\ufe0f\u20e3]|[\u{1f3fb}-\u{1f3ff}]|[\u{e0020}-\u{e007f}]/gu;

const SYMBOLS: [RegExp, string][] = [
  [/&/g, ' and '],
  [/%/g, ' percent '],
  [/@/g, ' at '],
  [/\+/g, ' plus '],
  [/=/g, ' equals '],
  [/#(?=\d)/g, ' number '],
  [/\$(\d[\d.]*)/g, ' $1 dollars '],
  [/€(\d[\d.]*)/g, ' $1 euros '],
  [/£(\d[\d.]*)/g, ' $1 pounds '],
  [/[()[\]{}]/g, ', '],
  [/[‘’`´]/g, "'"],
  [/[–—]/g, ' - '],
  [/…/g, '.'],
];

// The symbols said the same in any language: brackets become pauses, quotes and dashes plain ones.
const NEUTRAL_SYMBOLS = SYMBOLS.slice(-4);

// What an engine may receive: letters (and their marks), digits, space, plain punctuation.
const DISALLOWED = /[^\p{L}\p{M}\p{N} .,?!'\-:;]/gu;

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0-99 in words. */
function smallNumber(n: number): string {
  if (n < 20) return ONES[n] as string;
  const t = TENS[Math.floor(n / 10)] as string;
  return n % 10 ? `${t}-${ONES[n % 10]}` : t;
}

/** "10:42" -> "ten forty-two", "9:05 pm" -> "nine oh five p m", "14:00" -> "fourteen hundred". */
function sayTime(hours: string, minutes: string, suffix: string | undefined): string {
  const h = Number(hours);
  const m = Number(minutes);
  const ampm = suffix ? ` ${suffix.replace(/\./g, '').toLowerCase().split('').join(' ')}` : '';
  let words: string;
  if (m === 0) words = suffix || h <= 12 ? `${smallNumber(h)} o'clock` : `${smallNumber(h)} hundred`;
  else words = `${smallNumber(h)} ${m < 10 ? `oh ${smallNumber(m)}` : smallNumber(m)}`;
  return ` ${words}${ampm} `;
}

/** How links and email addresses are said, per language (English for a language not listed). */
interface AddressWords {
  link: string;
  linkTo: string;
  dot: string;
  at: string;
}

const ADDRESS_WORDS: Record<string, AddressWords> = {
  en: { link: 'a link', linkTo: 'a link to', dot: 'dot', at: 'at' },
  es: { link: 'un enlace', linkTo: 'un enlace a', dot: 'punto', at: 'arroba' },
  fr: { link: 'un lien', linkTo: 'un lien vers', dot: 'point', at: 'arobase' },
  de: { link: 'ein Link', linkTo: 'ein Link zu', dot: 'Punkt', at: 'at' },
};

function addressWords(language: string | undefined): AddressWords {
  const primary = (language ?? 'en').split('-')[0]?.toLowerCase() ?? 'en';
  return ADDRESS_WORDS[primary] ?? (ADDRESS_WORDS.en as AddressWords);
}

function sayUrl(url: string, w: AddressWords): string {
  const host = url
    .replace(/^https?:\/\//i, '')
    .replace(/^www\./i, '')
    .split(/[/?#:]/)[0] as string;
  const spoken = host.split('.').filter(Boolean).join(` ${w.dot} `);
  return spoken ? ` ${w.linkTo} ${spoken} ` : ` ${w.link} `;
}

function sayEmoji(text: string): string {
  let out = '';
  for (const ch of text.replace(EMOJI_PARTS, '')) {
    const name = EMOJI[ch];
    if (name) out += ` ${name}, `;
    else if (PICTOGRAPH.test(ch)) out += ' ';
    else out += ch;
  }
  return out;
}

export interface SpeechTextOptions {
  maxChars: number;
  /**
   * The language (BCP 47) of the text; default English. Times and symbols are
   * put in English words only for English: an engine speaking another
   * language says "10:42" and numbers in its own words. Links and email
   * addresses are said in the language's words (English, Spanish, French,
   * German; English for any other).
   */
  language?: string;
}

/**
 * Returns the text an engine may speak, or throws AUDIO_TEXT_INVALID (not
 * text, broken UTF-16), AUDIO_TEXT_TOO_LONG or AUDIO_TEXT_EMPTY (nothing to say).
 */
export function speechText(value: unknown, options: SpeechTextOptions): string {
  if (typeof value !== 'string') throw new AppError('AUDIO_TEXT_INVALID', 'the text to speak must be a string');
  if (NOT_UTF8.test(value)) throw new AppError('AUDIO_TEXT_INVALID', 'the text to speak is not valid Unicode');
  const length = [...value].length;
  if (length > options.maxChars)
    throw new AppError(
      'AUDIO_TEXT_TOO_LONG',
      `the text to speak is ${length} characters; the limit is ${options.maxChars}`,
      {
        length,
        maxChars: options.maxChars,
      },
    );
  let t = value.normalize('NFKC').replace(CONTROL, ' ');
  t = t.replace(TAG_RE, ' ');
  const words = addressWords(options.language);
  t = t.replace(URL_RE, (u) => sayUrl(u, words));
  t = t.replace(
    EMAIL_RE,
    (_m, user: string, domain: string) =>
      ` ${user.replace(/[._]/g, ' ')} ${words.at} ${domain.split('.').join(` ${words.dot} `)} `,
  );
  const isEnglish = !options.language || /^en(-|$)/i.test(options.language);
  if (isEnglish) t = t.replace(TIME_RE, (_m, h: string, m: string, s: string | undefined) => sayTime(h, m, s));
  t = t.replace(PHONE_RE, (n) =>
    n.replace(/\D/g, '').length >= 7 ? ` ${n.replace(/\D/g, '').split('').join(' ')}, ` : n,
  );
  t = t.replace(GROUPED_NUMBER_RE, (n) => n.replace(/,/g, ''));
  t = sayEmoji(t);
  for (const [re, to] of isEnglish ? SYMBOLS : NEUTRAL_SYMBOLS) t = t.replace(re, to);
  t = t.replace(DISALLOWED, ' ');
  // Runs of punctuation (from "!!!" or removed markup) carry no more meaning than their first mark.
  t = t.replace(/\s*([.,?!:;])/g, '$1').replace(/([.,?!:;])(?:\s*[.,?!:;])+/g, '$1');
  t = t.replace(/([.,?!:;])(?=[^\s\d])/g, '$1 ');
  t = t.replace(/\s+/g, ' ').trim();
  t = t
    .replace(/^[\s.,?!:;'-]+/, '')
    .replace(/[,:;]+$/, '')
    .trim();
  if (!/[\p{L}\p{N}]/u.test(t)) throw new AppError('AUDIO_TEXT_EMPTY', 'the text has nothing that can be spoken');
  // Saying links, emoji and numbers in words can grow a text many times over: the limit holds for what is said.
  const spoken = [...t].length;
  if (spoken > options.maxChars)
    throw new AppError(
      'AUDIO_TEXT_TOO_LONG',
      `the text to speak is ${spoken} characters once said in words; the limit is ${options.maxChars}`,
      { length: spoken, maxChars: options.maxChars },
    );
  return t;
}
