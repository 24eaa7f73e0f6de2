/**
 * One call's state while a flow runs: the call, the keys the caller pressed
 * and not yet consumed, who is logged on, the phone link, and everything that
 * must be undone when the call ends (timers, listeners, recordings left on
 * the PBX, the link). dispose() undoes all of it exactly once, whoever ended
 * the call.
 *
 * Keys are buffered from the first moment (type-ahead): a caller who knows the
 * menu may key a choice or a PIN while a prompt plays; the key stops the
 * prompt (barge-in) and is then consumed by the verb that reads keys.
 */
import type { User } from '../accounts/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { type DetectOptions, detectLanguage, primaryLanguage } from '../core/language.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type Metrics, noMetrics } from '../core/metrics.js';
import { cleanDtmf } from '../core/sanitize.js';
import type { Call, CallControl } from '../telephony/port.js';
import type { IvrAudioPort, IvrLink, IvrMessage } from './ports.js';
import { type Phrases, type PromptId, phrases, promptText } from './prompts.js';

/** The caller hung up: every verb stops and the flow unwinds to its cleanup. */
export class CallEnded extends AppError {
  constructor(callId: string) {
    super('IVR_CALL_ENDED', `call ${callId} ended`, { callId });
  }
}

/** Silence or wrong keys too many times: the flow says so politely and ends the call. */
export class GiveUp extends Error {
  constructor(readonly where: string) {
    super(`gave up in ${where}`);
  }
}

/**
 * Something the caller hears: a catalogue prompt, a sentence to speak, or audio by URL. A sentence that
 * comes from a user (a message) carries `otherwise`: what is said instead when the speech sanitiser refuses
 * it (nothing to say, too long), so that no message can break a call; `userText` is the user's part of a
 * sentence that wraps it ("Alice says: ..."), which must be speakable on its own.
 */
export type Prompt =
  | PromptId
  | { text: string; otherwise?: string; userText?: string; language?: string }
  | { url: string }
  | { media: string };

/** A body's own language when it can be told and differs from the listener's; undefined otherwise. */
export async function bodyLanguage(
  text: string,
  listener: string,
  detect: DetectOptions | undefined,
): Promise<string | undefined> {
  if (!detect) return undefined;
  const found = await detectLanguage(text, detect);
  return found && found !== primaryLanguage(listener) ? found : undefined;
}

const UNSPEAKABLE = new Set(['AUDIO_TEXT_EMPTY', 'AUDIO_TEXT_TOO_LONG', 'AUDIO_TEXT_INVALID']);

const MAX_BUFFERED_KEYS = 32;

/** How often a write queued with later() is tried, and the first pause between tries (doubling). */
const LATER_TRIES = 5;
const LATER_RETRY_MS = 200;

/** Keys pressed and not yet consumed, in order; at most one reader at a time. */
export class DigitBuffer {
  private readonly queue: string[] = [];
  private waiter: ((digit: string | null) => void) | null = null;
  private readonly listeners = new Set<(digit: string) => void>();
  private readonly unsubscribe: () => void;
  private closed = false;
  /** When the last key came that no playback has answered yet (key-to-playback latency). */
  unansweredKeyAt: number | undefined;

  constructor(
    call: Call,
    private readonly clock: Clock,
  ) {
    this.unsubscribe = call.onDtmf((digit) => this.push(digit));
  }

  private push(raw: string): void {
    const digit = cleanDtmf(raw).slice(0, 1);
    if (!digit || this.closed) return;
    this.unansweredKeyAt = this.clock.now();
    for (const l of [...this.listeners]) l(digit);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(digit);
    } else if (this.queue.length < MAX_BUFFERED_KEYS) this.queue.push(digit);
  }

  get pending(): number {
    return this.queue.length;
  }

  peek(): string | undefined {
    return this.queue[0];
  }

  take(): string | undefined {
    return this.queue.shift();
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** Called for every key as it arrives (barge-in); returns the unsubscribe. */
  onDigit(listener: (digit: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size + (this.waiter ? 1 : 0);
  }

  /**
   * The next key: a buffered one at once, else the next pressed within
   * `timeoutMs` (null after that, or when `signal` aborts; Infinity waits for
   * ever). Rejects with CallEnded when `callSignal` aborts.
   */
  next(timeoutMs: number, callSignal: AbortSignal, callId: string, signal?: AbortSignal): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (callSignal.aborted) return Promise.reject(new CallEnded(callId));
    if (signal?.aborted) return Promise.resolve(null);
    if (this.waiter) throw new AppError('IVR_VERB_PRECONDITION', 'two verbs read keys at once');
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        this.waiter = null;
        if (timer) this.clock.clearTimeout(timer);
        callSignal.removeEventListener('abort', onHangup);
        signal?.removeEventListener('abort', onStop);
      };
      const onHangup = () => {
        done();
        reject(new CallEnded(callId));
      };
      const onStop = () => {
        done();
        resolve(null);
      };
      this.waiter = (digit) => {
        done();
        resolve(digit);
      };
      if (Number.isFinite(timeoutMs)) timer = this.clock.setTimeout(onStop, timeoutMs);
      callSignal.addEventListener('abort', onHangup, { once: true });
      signal?.addEventListener('abort', onStop, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.listeners.clear();
    this.queue.length = 0;
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }
}

export interface CallContextDeps {
  control: CallControl;
  audio: IvrAudioPort;
  clock: Clock;
  config: Config['ivr'];
  log: Logger;
  /** Log each sentence the caller hears (the demo). */
  tracePrompts?: boolean;
  metrics?: Metrics;
  /** The language of callers not yet known, and of users who chose none (language.default); default English. */
  defaultLanguage?: string;
  /** How a message body's own language is told; absent: bodies are read in the caller's language. */
  detect?: DetectOptions;
}

export class CallContext {
  readonly call: Call;
  readonly digits: DigitBuffer;
  readonly control: CallControl;
  readonly audio: IvrAudioPort;
  readonly clock: Clock;
  readonly config: Config['ivr'];
  log: Logger;
  user: User | null = null;
  /** The language of the caller before log-on, when their phone number tells who they are. */
  callerLanguage: string | undefined;
  readonly defaultLanguage: string;
  link: IvrLink | null = null;
  /** Where the flow is, for logs, hang-up reports and the operator's view. */
  state = 'start';
  /** When the IVR took the call (ms since the epoch). */
  readonly startedAt: number;
  /** Recordings on the PBX not yet fetched or deleted: removed on dispose. */
  readonly recordings = new Set<string>();
  private readonly timers = new Set<TimerHandle>();
  private readonly messageListeners = new Set<(m: IvrMessage) => void>();
  private disposed: Promise<void> | undefined;
  private readonly tracePrompts: boolean;
  private readonly metrics: Metrics;

  constructor(call: Call, deps: CallContextDeps) {
    this.call = call;
    this.control = deps.control;
    this.audio = deps.audio;
    this.clock = deps.clock;
    this.startedAt = deps.clock.now();
    this.config = deps.config;
    this.log = deps.log;
    this.digits = new DigitBuffer(call, deps.clock);
    this.tracePrompts = deps.tracePrompts ?? false;
    this.metrics = deps.metrics ?? noMetrics;
    this.defaultLanguage = deps.defaultLanguage ?? 'en';
    this.detect = deps.detect;
  }

  private readonly detect: DetectOptions | undefined;

  /**
   * The language a message body is read in: its own when the detector is sure
   * and it differs from the caller's; undefined (the caller's) otherwise.
   */
  async bodyLanguage(text: string): Promise<string | undefined> {
    return bodyLanguage(text, this.language, this.detect);
  }

  /** The language the caller hears (BCP 47): the user's, else the one their number told, else the default. */
  get language(): string {
    return this.user?.language ?? (this.user ? undefined : this.callerLanguage) ?? this.defaultLanguage;
  }

  /** The sentences of the caller's language. */
  get phrases(): Phrases {
    return phrases(this.language);
  }

  /** A playback started: the first after a key answers it (key-to-playback latency). */
  playbackStarted(): void {
    const at = this.digits.unansweredKeyAt;
    if (at === undefined) return;
    this.digits.unansweredKeyAt = undefined;
    this.metrics.keyToPlayback((this.clock.now() - at) / 1000);
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  /** Throws CallEnded when the caller has gone. */
  assertAlive(): void {
    if (!this.call.isAlive || this.call.signal.aborted) throw new CallEnded(this.call.id);
  }

  /** The user logged on; misuse when nobody is. */
  get userOrThrow(): User {
    if (!this.user) throw new AppError('IVR_VERB_PRECONDITION', 'nobody is logged on in this call');
    return this.user;
  }

  /**
   * Renders now, in the background, what the caller may hear after the next
   * key, so that the key costs a cache hit rather than a synthesis. Never
   * fails: what cannot be rendered ahead is rendered when it is needed.
   */
  renderAhead(prompts: () => readonly Prompt[] | Promise<readonly Prompt[]>): void {
    void (async () => {
      if (!this.call.isAlive) return;
      await this.media(await prompts(), { ahead: true });
    })().catch((e: unknown) => this.log.debug({ err: e }, 'rendering ahead failed'));
  }

  /** Turns prompts into media URIs the PBX plays; speech is rendered (or found in the cache) by the audio server. */
  async media(prompts: readonly Prompt[], opts: { ahead?: boolean } = {}): Promise<string[]> {
    const voice = this.config.voice;
    const language = this.language;
    const speak = async (text: string, lang = language) => {
      if (this.tracePrompts && !opts.ahead) this.log.info({ says: text, language: lang }, 'caller hears');
      return `sound:${await this.audio.speechUrl(text, { ...(voice ? { voice } : {}), language: lang })}`;
    };
    return Promise.all(
      prompts.map(async (p) => {
        if (typeof p === 'string') return speak(promptText(p, language));
        if ('text' in p) {
          if (p.otherwise === undefined) return speak(p.text, p.language);
          if (p.userText !== undefined && this.audio.speakable?.(p.userText) === false) {
            this.log.info('a message cannot be read aloud; announced instead');
            return speak(p.otherwise);
          }
          try {
            return await speak(p.text, p.language);
          } catch (e) {
            if (!(e instanceof AppError && UNSPEAKABLE.has(e.code))) throw e;
            this.log.info({ code: e.code }, 'a message cannot be read aloud; announced instead');
            return speak(p.otherwise);
          }
        }
        if ('url' in p) return `sound:${p.url}`;
        return p.media;
      }),
    );
  }

  /**
   * Queues a write the caller need not wait for (a message marked read): it
   * runs once the next play request has gone out, or sooner when the flow
   * needs it done (settled(), dispose()), so that a key costs the play request
   * and nothing else first. Writes run one at a time, in order. A failed one
   * is logged and tried again, a growing pause apart; only after
   * LATER_TRIES failures is it given up, with an error in the log.
   */
  later(what: string, write: () => unknown, opts: { changesUnread?: boolean } = {}): void {
    this.writes.push({ what, write });
    if (opts.changesUnread) {
      this.unreadChanges++;
      this.keptUnread = undefined;
    }
  }

  /**
   * Keeps a user's unread list, read ahead (when the caller ID told who is
   * calling), for the first reading of the list after log-on: read once per
   * call, not once for rendering ahead and again after `#`.
   */
  keepUnread(userId: number, list: Promise<IvrMessage[]>): Promise<IvrMessage[]> {
    const kept = list.catch(() => null);
    this.keptUnread = { userId, list: kept };
    return list;
  }

  /**
   * The kept unread list of `userId`, once, while nothing in this call has
   * changed what is unread; null otherwise (the caller reads it afresh).
   */
  async takeUnread(userId: number): Promise<IvrMessage[] | null> {
    const kept = this.keptUnread;
    this.keptUnread = undefined;
    if (!kept || kept.userId !== userId || this.unreadChanges > 0) return null;
    return kept.list;
  }

  /** Drops the kept unread list (the flow went elsewhere, where the list may change). */
  forgetUnread(): void {
    this.keptUnread = undefined;
  }

  private keptUnread: { userId: number; list: Promise<IvrMessage[] | null> } | undefined;

  /**
   * Writes queued so far that change what is unread (marked read, deleted) are
   * done: the list of new messages waits for these, not for the others (the
   * phone link opening after log-on).
   */
  async unreadSettled(): Promise<void> {
    if (this.unreadChanges === 0) return;
    await this.settled();
    this.unreadChanges = 0;
  }

  private unreadChanges = 0;

  /** A play request was sent: the queued writes run right after it has left (setImmediate follows its I/O). */
  playRequested(): void {
    if (this.writes.length > 0 && !this.writing) setImmediate(() => void this.settled());
  }

  /** Every write queued so far is done (or given up); a read that must see them waits for this first. */
  async settled(): Promise<void> {
    while (this.writing || this.writes.length > 0) {
      if (!this.writing) {
        const run = (async () => {
          for (let w = this.writes.shift(); w; w = this.writes.shift()) await this.write(w);
        })();
        this.writing = run;
        void run.finally(() => {
          if (this.writing === run) this.writing = undefined;
        });
      }
      await this.writing;
    }
  }

  private async write(w: { what: string; write: () => unknown }): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await w.write();
        return;
      } catch (e) {
        if (attempt >= LATER_TRIES) {
          this.log.error({ err: e, what: w.what, attempts: attempt }, 'a write after a key failed; given up');
          return;
        }
        this.log.warn({ err: e, what: w.what, attempt }, 'a write after a key failed; trying again');
        await new Promise<void>((r) => this.clock.setTimeout(r, LATER_RETRY_MS * 2 ** (attempt - 1)));
      }
    }
  }

  private readonly writes: { what: string; write: () => unknown }[] = [];
  private writing: Promise<void> | undefined;

  /** Waits `ms` on the injected clock; rejects with CallEnded on hang-up. */
  async sleep(ms: number): Promise<void> {
    this.assertAlive();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.clock.clearTimeout(handle);
        this.timers.delete(handle);
        reject(new CallEnded(this.call.id));
      };
      const handle = this.clock.setTimeout(() => {
        this.timers.delete(handle);
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.timers.add(handle);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** New messages for the logged-on user while the link is open. */
  deliver(message: IvrMessage): void {
    for (const l of [...this.messageListeners]) l(message);
  }

  onMessage(listener: (m: IvrMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  get listenerCount(): number {
    return this.messageListeners.size + this.digits.listenerCount;
  }

  /** Undoes everything the call holds; safe to call more than once. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      // What the caller did is written before the link closes (the link itself may be one of them).
      await this.settled();
      this.digits.close();
      for (const t of this.timers) this.clock.clearTimeout(t);
      this.timers.clear();
      this.messageListeners.clear();
      const link = this.link;
      this.link = null;
      if (link) {
        try {
          await link.close();
        } catch (e) {
          this.log.warn({ err: e }, 'closing the phone link failed');
        }
      }
      for (const name of this.recordings) {
        try {
          await this.control.deleteRecording(name);
        } catch (e) {
          this.log.warn({ err: e, recording: name }, 'deleting a recording failed');
        }
      }
      this.recordings.clear();
    })();
    return this.disposed;
  }
}
