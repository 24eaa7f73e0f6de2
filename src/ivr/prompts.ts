/**
 * The IVR's fixed prompts (id -> text) and the sentences it builds from data
 * (message counts, envelopes), in every language of the catalogue
 * (catalogue/*.ts). This is the IVR's own catalogue: the audio server renders
 * each text through speechUrl() and caches it by content and voice, so a
 * prompt is synthesised once per language and every later play is a cache hit.
 * Counts, dates and times are formatted for the listener's language tag with
 * Intl ("es-MX" formats as Mexican Spanish, speaks the Spanish catalogue);
 * the menu keys are the same in every language.
 */
import { AppError } from '../core/errors.js';
import { catalogueLanguage, type SupportedLanguage } from '../core/language.js';
import { de } from './catalogue/de.js';
import { en } from './catalogue/en.js';
import { es } from './catalogue/es.js';
import { fr } from './catalogue/fr.js';
import { PROMPT_IDS } from './catalogue/ids.js';
import type { Catalogue, PromptId, SpokenState } from './catalogue/types.js';

export type { PromptId } from './catalogue/types.js';
export { PROMPT_IDS } from './catalogue/ids.js';

export const CATALOGUES: Readonly<Record<SupportedLanguage, Catalogue>> = { en, es, fr, de };

/** The English prompts (the default catalogue). */
export const PROMPTS: Readonly<Record<PromptId, string>> = en.prompts;

/** The fixed prompts of a language (by its tag's primary subtag; English when it has no catalogue). */
export function promptsOf(language: string): Readonly<Record<PromptId, string>> {
  return CATALOGUES[catalogueLanguage(language)].prompts;
}

export const isPromptId = (id: string): id is PromptId => (PROMPT_IDS as readonly string[]).includes(id);

export function promptText(id: string, language = 'en'): string {
  if (!isPromptId(id)) throw new AppError('IVR_PROMPT_UNKNOWN', `no IVR prompt "${id}"`, { prompt: id });
  return promptsOf(language)[id];
}

const DAY_MS = 24 * 3600 * 1000;

// Building an Intl formatter costs far more than using one: one per language, time zone and shape, kept.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(locale: string, timeZone: string, shape: 'parts' | 'time' | 'weekday' | 'date'): Intl.DateTimeFormat {
  const key = `${shape} ${locale} ${timeZone}`;
  let f = formats.get(key);
  if (!f) {
    f =
      shape === 'parts'
        ? new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
        : shape === 'time'
          ? new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
          : shape === 'weekday'
            ? new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long' })
            : new Intl.DateTimeFormat(locale, { timeZone, month: 'long', day: 'numeric' });
    if (formats.size > 1000) formats.clear();
    formats.set(key, f);
  }
  return f;
}

function dayOf(at: number, timeZone: string): string {
  return format('en-US', timeZone, 'parts').format(at);
}

/** A language's sentences, with numbers, dates and lists formatted for its tag. */
export class Phrases {
  readonly language: string;
  readonly catalogue: Catalogue;
  private readonly locale: string;
  private readonly plurals: Intl.PluralRules;
  private readonly numbers: Intl.NumberFormat;

  constructor(language: string) {
    this.language = language;
    this.catalogue = CATALOGUES[catalogueLanguage(language)];
    // A tag whose catalogue is English (or unknown) formats as English too, so words and numbers agree.
    this.locale = catalogueLanguage(language) === 'en' && !language.toLowerCase().startsWith('en') ? 'en' : language;
    this.plurals = new Intl.PluralRules(this.locale);
    this.numbers = new Intl.NumberFormat(this.locale);
  }

  prompt(id: PromptId): string {
    return this.catalogue.prompts[id];
  }

  welcomeBack(spokenName: string): string {
    return this.catalogue.welcomeBack(spokenName);
  }

  /** "You have no new messages." / "You have 1 new message." / "You have 3 new messages." */
  messageCount(n: number): string {
    return this.catalogue.messageCount(n, this.numbers.format(n), this.plurals.select(n));
  }

  triesLeft(n: number): string {
    return this.catalogue.triesLeft(this.numbers.format(n), this.plurals.select(n));
  }

  /**
   * When a message was sent, as a caller expects to hear it, in their own
   * time zone: "today at 10:42", "yesterday at 18:05", "on Monday at 09:00",
   * "on March 3 at 09:00".
   */
  spokenWhen(at: number, now: number, timeZone: string): string {
    const c = this.catalogue;
    const time = format(this.locale, timeZone, 'time').format(at);
    const day = dayOf(at, timeZone);
    if (day === dayOf(now, timeZone)) return c.today(time);
    if (day === dayOf(now - DAY_MS, timeZone)) return c.yesterday(time);
    if (now - at < 6 * DAY_MS && at <= now)
      return c.onWeekday(format(this.locale, timeZone, 'weekday').format(at), time);
    return c.onDate(format(this.locale, timeZone, 'date').format(at), time);
  }

  /** "From Alice, today at 10:42." */
  envelope(fromName: string, at: number, now: number, timeZone: string): string {
    return this.catalogue.envelope(fromName, this.spokenWhen(at, now, timeZone));
  }

  ordinalMessage(i: number, total: number): string {
    const kind = total === 1 ? 'only' : i === 0 ? 'first' : i === total - 1 ? 'last' : 'nth';
    return this.catalogue.ordinal(kind, this.numbers.format(i + 1));
  }

  onlineList(names: { spokenName: string; state: string }[]): string {
    return names.map((c) => this.catalogue.isState(c.spokenName, this.state(c.state))).join(' ');
  }

  contactChoices(names: string[]): string {
    return names.map((n, i) => this.catalogue.contactChoice(n, String(i + 1))).join(' ');
  }

  presenceSet(state: string): string {
    return this.catalogue.presenceSet(this.state(state));
  }

  chattingWith(names: string[]): string {
    return this.catalogue.chattingWith(this.joinNames(names));
  }

  resumeQuestion(names: string[]): string {
    return this.catalogue.resumeQuestion(this.joinNames(names));
  }

  someoneSays(name: string, text?: string): string {
    return text ? this.catalogue.says(name, text) : this.catalogue.sentVoice(name);
  }

  /** Said instead of a message the speech engine cannot say (only symbols or emoji, markup, far too long). */
  cannotBeRead(name: string): string {
    return this.catalogue.cannotBeRead(name);
  }

  wantsToChat(name: string): string {
    return this.catalogue.wantsToChat(name);
  }

  joinNames(names: string[]): string {
    if (names.length === 0) return this.catalogue.nobody;
    if (names.length === 1) return names[0] as string;
    if (this.catalogue === en) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    return new Intl.ListFormat(this.locale, { type: 'conjunction' }).format(names);
  }

  private state(s: string): string {
    const known: readonly string[] = ['online', 'away', 'busy', 'on-the-phone', 'offline'];
    return known.includes(s) ? this.catalogue.state(s as SpokenState) : s;
  }
}

const phrasesCache = new Map<string, Phrases>();

/** The sentences of a language tag (kept: one per tag). */
export function phrases(language: string | null | undefined): Phrases {
  const tag = language || 'en';
  let p = phrasesCache.get(tag);
  if (!p) {
    p = new Phrases(tag);
    if (phrasesCache.size > 100) phrasesCache.clear();
    phrasesCache.set(tag, p);
  }
  return p;
}

// ---- English, as before: the sentences of the default catalogue ----------------------

const EN = phrases('en');
export const welcomeBack = (spokenName: string) => EN.welcomeBack(spokenName);
export const messageCount = (n: number) => EN.messageCount(n);
export const triesLeft = (n: number) => EN.triesLeft(n);
export const spokenWhen = (at: number, now: number, timeZone: string) => EN.spokenWhen(at, now, timeZone);
export const envelope = (fromName: string, at: number, now: number, timeZone: string) =>
  EN.envelope(fromName, at, now, timeZone);
export const ordinalMessage = (i: number, total: number) => EN.ordinalMessage(i, total);
export const onlineList = (names: { spokenName: string; state: string }[]) => EN.onlineList(names);
export const contactChoices = (names: string[]) => EN.contactChoices(names);
export const presenceSet = (state: string) => EN.presenceSet(state);
export const chattingWith = (names: string[]) => EN.chattingWith(names);
export const resumeQuestion = (names: string[]) => EN.resumeQuestion(names);
export const someoneSays = (name: string, text?: string) => EN.someoneSays(name, text);
export const cannotBeRead = (name: string) => EN.cannotBeRead(name);
export const wantsToChat = (name: string) => EN.wantsToChat(name);
export const joinNames = (names: string[]) => EN.joinNames(names);
