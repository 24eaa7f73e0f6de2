/**
 * One language's catalogue: the IVR's fixed prompts and the sentences it
 * builds from data. Every catalogue has every prompt and every sentence (the
 * type says so, and test/ivr/catalogue.test.ts checks the texts are there and
 * are not English left untranslated). Numbers, dates and times come in
 * already formatted for the language by prompts.ts (Intl); a catalogue only
 * places them.
 */
import type { PROMPT_IDS } from './ids.js';

export type PromptId = (typeof PROMPT_IDS)[number];

export type SpokenState = 'online' | 'away' | 'busy' | 'on-the-phone' | 'offline';

export interface Catalogue {
  readonly prompts: Readonly<Record<PromptId, string>>;
  welcomeBack(name: string): string;
  /** `count` is formatted; `plural` is Intl.PluralRules' category for it. */
  messageCount(n: number, count: string, plural: Intl.LDMLPluralRule): string;
  triesLeft(count: string, plural: Intl.LDMLPluralRule): string;
  today(time: string): string;
  yesterday(time: string): string;
  onWeekday(weekday: string, time: string): string;
  onDate(date: string, time: string): string;
  envelope(name: string, when: string): string;
  /** "Message." (one), "First message.", "Last message.", "Message 3." */
  ordinal(kind: 'only' | 'first' | 'last' | 'nth', n: string): string;
  state(state: SpokenState): string;
  isState(name: string, state: string): string;
  contactChoice(name: string, key: string): string;
  presenceSet(state: string): string;
  chattingWith(names: string): string;
  resumeQuestion(names: string): string;
  says(name: string, text: string): string;
  sentVoice(name: string): string;
  cannotBeRead(name: string): string;
  wantsToChat(name: string): string;
  nobody: string;
}
