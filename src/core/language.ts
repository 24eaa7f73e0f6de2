/**
 * Languages, in one place. A user's language is a BCP 47 tag ("es",
 * "es-MX", "fr-CA"); the platform speaks and writes in it when it has a
 * catalogue for its primary subtag (SUPPORTED_LANGUAGES), and formats dates,
 * times and counts with Intl in the full tag. A message body's own language
 * is told by a detector, trusted only with enough letters and a clear lead
 * over the next guess; otherwise the caller's language is used.
 */
import { AppError } from './errors.js';

/** Languages with a complete prompt and notice catalogue. */
export const SUPPORTED_LANGUAGES = ['en', 'es', 'fr', 'de'] as const;
export type SupportedLanguage = (typeof SUPPORTED_LANGUAGES)[number];

/** The primary subtag, lower case: "es-MX" -> "es". */
export function primaryLanguage(tag: string): string {
  return (tag.split('-')[0] as string).toLowerCase();
}

/** The catalogue a tag is spoken with: its primary subtag when supported, else English. */
export function catalogueLanguage(tag: string | null | undefined): SupportedLanguage {
  const p = tag ? primaryLanguage(tag) : 'en';
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(p) ? (p as SupportedLanguage) : 'en';
}

/**
 * The canonical form of a BCP 47 tag the platform can speak; throws
 * ACCOUNTS_LANGUAGE_UNSUPPORTED for a malformed tag or one without a catalogue.
 */
export function checkLanguage(input: unknown): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > 35 || !/^[A-Za-z0-9-]+$/.test(input))
    throw new AppError('ACCOUNTS_LANGUAGE_UNSUPPORTED', 'a language is a BCP 47 tag such as "es" or "fr-CA"');
  let tag: string;
  try {
    tag = Intl.getCanonicalLocales(input)[0] as string;
  } catch {
    throw new AppError('ACCOUNTS_LANGUAGE_UNSUPPORTED', `"${input}" is not a BCP 47 language tag`);
  }
  if (!(SUPPORTED_LANGUAGES as readonly string[]).includes(primaryLanguage(tag)))
    throw new AppError(
      'ACCOUNTS_LANGUAGE_UNSUPPORTED',
      `no catalogue for "${tag}"; the platform speaks ${SUPPORTED_LANGUAGES.join(', ')}`,
      { language: tag },
    );
  return tag;
}

export interface DetectOptions {
  /** Fewer letters than this: no guess. */
  minLetters: number;
  /** The best score must lead the second by at least this much (0-1). */
  minLead: number;
  /** Languages a guess may name (ISO 639-1); others are never returned. */
  candidates: readonly string[];
}

interface Detector {
  detect(text: string): { language: string; isReliable(): boolean; getScores(): Record<string, number> };
  setLanguageSubset(languages: string[] | boolean): unknown;
}

let detector: Promise<Detector> | undefined;
let detectorSubset = '';

// The n-gram tables are a megabyte or two of JavaScript: loaded on first use, not at start-up.
async function loadDetector(candidates: readonly string[]): Promise<Detector> {
  detector ??= import('eld/small').then((m) => (m.eld as unknown as { newInstance(): Detector }).newInstance());
  const d = await detector;
  const subset = [...candidates].sort().join(',');
  if (subset !== detectorSubset) {
    d.setLanguageSubset(candidates.length > 0 ? [...candidates] : false);
    detectorSubset = subset;
  }
  return d;
}

/** Loads the detector's tables ahead of the first message (a call must not wait for them). Never throws. */
export async function preloadDetector(options: DetectOptions): Promise<void> {
  if (options.candidates.length === 0) return;
  await loadDetector(options.candidates).catch(() => undefined);
}

/**
 * The language a text is written in (ISO 639-1), or null when it cannot be
 * told with confidence: too short, an unreliable guess, or two languages too
 * close to call. Never throws.
 */
export async function detectLanguage(text: string, options: DetectOptions): Promise<string | null> {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters < options.minLetters || options.candidates.length === 0) return null;
  // A message is read many times (each replay, each caller, ahead and when played): told once.
  const key = `${options.minLead}\0${options.candidates.join(',')}\0${text}`;
  const known = detected.get(key);
  if (known !== undefined) return known;
  const found = await detectUncached(text, options);
  if (detected.size >= MAX_DETECTED) detected.clear();
  detected.set(key, found);
  return found;
}

const detected = new Map<string, string | null>();
const MAX_DETECTED = 10_000;

async function detectUncached(text: string, options: DetectOptions): Promise<string | null> {
  try {
    const d = await loadDetector(options.candidates);
    const r = d.detect(text);
    if (!r.language || !r.isReliable() || !options.candidates.includes(r.language)) return null;
    const scores = Object.values(r.getScores()).sort((a, b) => b - a);
    const lead = (scores[0] ?? 0) - (scores[1] ?? 0);
    return lead >= options.minLead ? r.language : null;
  } catch {
    return null;
  }
}
