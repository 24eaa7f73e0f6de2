/**
 * The verbs a call flow is made of: play, say, gather digits, menu, record,
 * hang up (live chat is its own verb in live-chat.ts). Each verb has a name,
 * preconditions checked before it runs, exec(ctx, signal) and stop().
 *
 * Rules every verb keeps:
 * - A hang-up rejects the running verb with CallEnded at once (the call's
 *   signal), whatever it was waiting for.
 * - Barge-in: a key pressed during a prompt stops it at once; the key stays
 *   buffered for whatever reads keys next. A key pressed before a prompt
 *   starts skips it.
 * - Silence and wrong keys are retried the way callers expect: the options are
 *   said again, and after `maxTries` the verb gives up (GiveUp) so the flow
 *   can say goodbye politely.
 */
import { AppError } from '../core/errors.js';
import type { Playback, RecordingResult } from '../telephony/port.js';
import { type CallContext, CallEnded, GiveUp, type Prompt } from './context.js';
import { isPromptId, type PromptId } from './prompts.js';

export interface Verb<R> {
  readonly name: string;
  /** Throws IVR_VERB_PRECONDITION (misuse) or CallEnded (the caller has gone). */
  check(ctx: CallContext): void;
  exec(ctx: CallContext, signal: AbortSignal): Promise<R>;
  /** Stops the verb early (its exec then settles). */
  stop(): void;
}

/** Runs one verb: preconditions, then exec under the call's signal. */
export async function run<R>(ctx: CallContext, verb: Verb<R>): Promise<R> {
  ctx.assertAlive();
  verb.check(ctx);
  const onAbort = () => verb.stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await verb.exec(ctx, ctx.signal);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

const precondition = (verb: string, why: string) => new AppError('IVR_VERB_PRECONDITION', `${verb}: ${why}`, { verb });

const quietly = (p: Promise<unknown>) => {
  p.catch(() => undefined);
};

// ---- play / say -------------------------------------------------------------------

export type PlayResult = 'finished' | 'interrupted';

/** URIs in one playback request, and their length in all: well inside what an Asterisk request line takes. */
const MAX_URIS_PER_PLAYBACK = 16;
const MAX_CHARS_PER_PLAYBACK = 2000;

/** The media in as few playbacks as fit (one request each), in order. */
export function playbackGroups(media: readonly string[]): string[][] {
  const groups: string[][] = [];
  let chars = 0;
  for (const m of media) {
    const last = groups[groups.length - 1];
    if (last && last.length < MAX_URIS_PER_PLAYBACK && chars + m.length + 1 <= MAX_CHARS_PER_PLAYBACK) {
      last.push(m);
      chars += m.length + 1;
    } else {
      groups.push([m]);
      chars = m.length;
    }
  }
  return groups;
}

/**
 * Plays media URIs one after the other - as one playback (one request) when
 * they fit; a key stops the rest (barge-in) unless bargeIn is false.
 */
export class Play implements Verb<PlayResult> {
  readonly name = 'play';
  private current: Playback | null = null;
  private stopped = false;

  constructor(
    private readonly media: readonly string[],
    private readonly bargeIn = true,
  ) {}

  check(): void {
    if (this.media.length === 0) throw precondition(this.name, 'nothing to play');
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<PlayResult> {
    for (const media of playbackGroups(this.media)) {
      if (this.bargeIn && ctx.digits.pending > 0) return 'interrupted';
      if (signal.aborted || !ctx.call.isAlive) throw new CallEnded(ctx.call.id);
      if (this.stopped) return 'interrupted';
      let pressed = false;
      const requested = ctx.call.play(media, { bargeIn: this.bargeIn });
      ctx.playRequested();
      const playback = await requested;
      ctx.playbackStarted();
      this.current = playback;
      const off = this.bargeIn
        ? ctx.digits.onDigit(() => {
            pressed = true;
            quietly(playback.stop());
          })
        : () => undefined;
      // A key that came while the play request was in flight.
      if (this.bargeIn && ctx.digits.pending > 0) {
        pressed = true;
        quietly(playback.stop());
      }
      if (signal.aborted || this.stopped) quietly(playback.stop());
      let outcome: Awaited<Playback['done']>;
      try {
        outcome = await playback.done;
      } finally {
        off();
        this.current = null;
      }
      if (outcome === 'hangup' || signal.aborted || !ctx.call.isAlive) throw new CallEnded(ctx.call.id);
      if (pressed || this.stopped) return 'interrupted';
      if (outcome === 'failed') ctx.log.warn({ media }, 'playback failed');
    }
    return 'finished';
  }

  stop(): void {
    this.stopped = true;
    if (this.current) quietly(this.current.stop());
  }
}

/** Says prompts (catalogue ids, sentences, audio URLs) through the audio server. */
export class Say implements Verb<PlayResult> {
  readonly name = 'say';
  private play: Play | null = null;
  private stopped = false;

  constructor(
    private readonly prompts: readonly Prompt[],
    private readonly bargeIn = true,
  ) {}

  check(): void {
    if (this.prompts.length === 0) throw precondition(this.name, 'nothing to say');
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<PlayResult> {
    if (this.bargeIn && ctx.digits.pending > 0) return 'interrupted';
    const media = await ctx.media(this.prompts);
    if (signal.aborted || !ctx.call.isAlive) throw new CallEnded(ctx.call.id);
    if (this.stopped) return 'interrupted';
    this.play = new Play(media, this.bargeIn);
    return this.play.exec(ctx, signal);
  }

  stop(): void {
    this.stopped = true;
    this.play?.stop();
  }
}

export const say = (ctx: CallContext, prompts: readonly Prompt[], bargeIn = true) =>
  run(ctx, new Say(prompts, bargeIn));

// ---- gather -----------------------------------------------------------------------

export interface GatherSpec {
  prompt: readonly Prompt[];
  maxDigits: number;
  /** Ends the entry early and is not part of it. */
  terminator?: '#' | '*';
  firstDigitTimeoutMs?: number;
  interDigitTimeoutMs?: number;
  /** Told the entry so far after each key that adds to it (a PIN verified ahead of `#`). */
  onDigits?: (digits: string) => void;
}

export interface GatherResult {
  digits: string;
  /** 'max': maxDigits reached; 'terminator'; 'timeout': silence (digits may be partial or empty). */
  reason: 'max' | 'terminator' | 'timeout';
}

/** Says a prompt (keys stop it), then collects up to maxDigits keys. */
export class Gather implements Verb<GatherResult> {
  readonly name = 'gather';
  private readonly stopper = new AbortController();
  private say: Say | null = null;

  constructor(private readonly spec: GatherSpec) {}

  check(): void {
    if (!Number.isInteger(this.spec.maxDigits) || this.spec.maxDigits < 1 || this.spec.maxDigits > 32)
      throw precondition(this.name, 'maxDigits must be 1-32');
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<GatherResult> {
    if (this.spec.prompt.length > 0) {
      this.say = new Say(this.spec.prompt, true);
      await this.say.exec(ctx, signal);
    }
    const first = this.spec.firstDigitTimeoutMs ?? ctx.config.firstDigitTimeoutMs;
    const inter = this.spec.interDigitTimeoutMs ?? ctx.config.interDigitTimeoutMs;
    let digits = '';
    for (;;) {
      const d = await ctx.digits.next(digits ? inter : first, signal, ctx.call.id, this.stopper.signal);
      if (d === null) return { digits, reason: 'timeout' };
      if (d === this.spec.terminator) return { digits, reason: 'terminator' };
      digits += d;
      this.spec.onDigits?.(digits);
      if (digits.length >= this.spec.maxDigits) {
        // "1#" for a one-key entry: the terminator belongs to this entry, not to the next prompt.
        if (this.spec.terminator && ctx.digits.peek() === this.spec.terminator) ctx.digits.take();
        return { digits, reason: 'max' };
      }
    }
  }

  stop(): void {
    this.say?.stop();
    this.stopper.abort();
  }
}

export const gather = (ctx: CallContext, spec: GatherSpec) => run(ctx, new Gather(spec));

// ---- menu -------------------------------------------------------------------------

/** A menu as data: which prompt lists the options, and which key means which action. */
export interface MenuDef<A extends string = string> {
  id: string;
  /** Catalogue prompts that say the options. */
  prompt: readonly PromptId[];
  options: readonly { key: string; action: A }[];
  /** Keys that are neither options nor mistakes (a late '#' after a recording): ignored. */
  ignore?: readonly string[];
}

const KEY = /^[0-9*#]$/;

/** Checks a menu before any call uses it: keys are single keypad keys, unique, prompts exist. */
export function validateMenu<A extends string>(def: MenuDef<A>): MenuDef<A> {
  const bad = (why: string) => new AppError('IVR_MENU_INVALID', `menu "${def.id}": ${why}`, { menu: def.id });
  if (!/^[a-z][a-z0-9-]*$/.test(def.id)) throw bad('the id must be lower-case letters, digits and dashes');
  if (def.prompt.length === 0) throw bad('it has no prompt');
  for (const p of def.prompt) if (!isPromptId(p)) throw bad(`prompt "${p}" is not in the catalogue`);
  if (def.options.length === 0) throw bad('it has no options');
  const seen = new Set<string>();
  for (const o of def.options) {
    if (!KEY.test(o.key)) throw bad(`key "${o.key}" is not a keypad key`);
    if (seen.has(o.key)) throw bad(`key "${o.key}" is used twice`);
    if (!o.action) throw bad(`key "${o.key}" has no action`);
    seen.add(o.key);
  }
  for (const k of def.ignore ?? []) {
    if (!KEY.test(k)) throw bad(`ignored key "${k}" is not a keypad key`);
    if (seen.has(k)) throw bad(`key "${k}" is both an option and ignored`);
  }
  return def;
}

/**
 * Plays an optional intro (only the first time: a message body), then the
 * options; returns the action of the key pressed. Silence: "I did not hear a
 * key" and the options again; a wrong key: "That is not an option" and the
 * options again; after maxTries of either, GiveUp.
 */
export class Menu<A extends string> implements Verb<A> {
  readonly name = 'menu';
  private current: Gather | null = null;
  private stopped = false;

  constructor(
    private readonly def: MenuDef<A>,
    private readonly intro: readonly Prompt[] = [],
  ) {}

  check(): void {
    validateMenu(this.def);
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<A> {
    let lead: Prompt[] = [...this.intro];
    for (let attempt = 0; attempt < ctx.config.maxTries; attempt++) {
      if (this.stopped) break;
      this.current = new Gather({ prompt: [...lead, ...this.def.prompt], maxDigits: 1 });
      let r = await this.current.exec(ctx, signal);
      while (r.digits && this.def.ignore?.includes(r.digits)) {
        this.current = new Gather({ prompt: [], maxDigits: 1 });
        r = await this.current.exec(ctx, signal);
      }
      const chosen = this.def.options.find((o) => o.key === r.digits);
      if (chosen) return chosen.action;
      lead = [r.digits ? 'invalidKey' : 'noInput'];
      ctx.log.debug({ menu: this.def.id, key: r.digits || null, attempt: attempt + 1 }, 'no valid choice');
    }
    throw new GiveUp(this.def.id);
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }
}

export const menu = <A extends string>(ctx: CallContext, def: MenuDef<A>, intro: readonly Prompt[] = []) =>
  run(ctx, new Menu(def, intro));

// ---- record -----------------------------------------------------------------------

export interface RecordSpec {
  name: string;
  maxSeconds?: number;
  maxSilenceSeconds?: number;
  beep?: boolean;
  terminateOn?: 'none' | 'any' | '*' | '#';
}

/**
 * Records the caller on the PBX. The recording is registered with the call
 * context until the flow fetches or deletes it, so a hang-up never leaves it
 * behind on the PBX.
 */
export class Record implements Verb<RecordingResult> {
  readonly name = 'record';

  constructor(private readonly spec: RecordSpec) {}

  check(): void {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(this.spec.name)) throw precondition(this.name, 'bad recording name');
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<RecordingResult> {
    ctx.recordings.add(this.spec.name);
    const result = await ctx.call.record({
      name: this.spec.name,
      format: 'wav',
      maxDurationSeconds: this.spec.maxSeconds ?? ctx.config.recordMaxSeconds,
      maxSilenceSeconds: this.spec.maxSilenceSeconds ?? ctx.config.recordMaxSilenceSeconds,
      beep: this.spec.beep ?? true,
      terminateOn: this.spec.terminateOn ?? '#',
    });
    if (result.outcome === 'failed') ctx.recordings.delete(this.spec.name);
    if (result.outcome === 'hangup' || signal.aborted) throw new CallEnded(ctx.call.id);
    return result;
  }

  /** A recording stops with the call (the PBX ends it) or with its terminating key. */
  stop(): void {}
}

/** Deletes a recording from the PBX and forgets it. */
export async function dropRecording(ctx: CallContext, name: string): Promise<void> {
  ctx.recordings.delete(name);
  try {
    await ctx.control.deleteRecording(name);
  } catch (e) {
    ctx.log.warn({ err: e, recording: name }, 'deleting a recording failed');
  }
}

// ---- hang up ----------------------------------------------------------------------

/** Says goodbye (no barge-in: it is short) and ends the call. */
export class Hangup implements Verb<void> {
  readonly name = 'hangup';

  constructor(private readonly prompts: readonly Prompt[] = ['goodbye']) {}

  check(): void {}

  async exec(ctx: CallContext): Promise<void> {
    try {
      if (this.prompts.length > 0) await new Say(this.prompts, false).exec(ctx, ctx.signal);
    } catch (e) {
      if (!(e instanceof CallEnded)) throw e;
    }
    if (ctx.call.isAlive) await ctx.call.hangup('normal');
  }

  stop(): void {}
}
