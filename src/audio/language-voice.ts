/**
 * Which voice speaks a language. The voice the request names (or the
 * default) speaks when it can: an espeak-ng voice of the same language as
 * the text, or any voice for English text on an English-only engine.
 * Otherwise, in this order: the voice configured for the language
 * (language.voices, by full tag then primary subtag), else espeak-ng with the
 * language's own voice (espeak-ng speaks about a hundred languages). flite and
 * festival speak only English, and `say` only its voice's language: falling
 * back from them is logged once per engine and language.
 */
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { primaryLanguage } from '../core/language.js';
import type { Logger } from '../core/logger.js';
import type { EngineName } from './engines.js';

export interface ResolvedVoice {
  engine: EngineName;
  voice: string;
  ratePercent: number;
}

export class LanguageVoices {
  private readonly told = new Set<string>();

  constructor(
    private readonly audio: Pick<Config['audio'], 'voices'>,
    private readonly byLanguage: Readonly<Record<string, string>>,
    private readonly log: Logger,
  ) {}

  /** The voice that says text in `language` (BCP 47), starting from the named voice `base`. */
  resolve(base: ResolvedVoice, language: string | undefined): ResolvedVoice {
    if (!language) return base;
    const lang = primaryLanguage(language);
    if (base.engine === 'espeak-ng' && primaryLanguage(base.voice) === lang) return base;
    const named = this.byLanguage[language] ?? this.byLanguage[lang];
    if (named !== undefined) {
      const v = this.audio.voices[named];
      if (!v) throw new AppError('AUDIO_VOICE_UNKNOWN', `language.voices names no voice "${named}"`, { voice: named });
      return v;
    }
    // flite and festival speak English only; a say voice is taken to be English unless configured per language.
    if (base.engine !== 'espeak-ng' && lang === 'en') return base;
    if (!/^[a-z]{2,3}$/.test(lang))
      throw new AppError('AUDIO_VOICE_UNKNOWN', `no voice for language "${language}"`, { language });
    if (base.engine !== 'espeak-ng') {
      const key = `${base.engine} ${lang}`;
      if (!this.told.has(key)) {
        this.told.add(key);
        this.log.warn(
          { engine: base.engine, language: lang, fallback: 'espeak-ng' },
          `${base.engine} cannot speak this language; espeak-ng speaks it instead`,
        );
      }
    }
    return { engine: 'espeak-ng', voice: lang, ratePercent: base.ratePercent };
  }
}
