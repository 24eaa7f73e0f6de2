/**
 * A virtual caller: the far end of one simulated call, driven by a test (or
 * the dev phone). It presses keys, speaks a WAV, stays silent, hangs up, and
 * keeps a transcript of everything played to it, in order.
 *
 * Timing is realistic and scaled: a key press takes its gap plus its tone
 * (180 ms, as a SIP phone's RFC 4733 digits), speech lasts as long as its
 * audio, all divided by the simulator's speed factor. Waiting helpers take
 * their timeouts in real milliseconds.
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import type { CalleeBehavior, SimChannel, Softswitch } from './softswitch.js';
import { parseWav, toSlin, tone } from './wav.js';

/** One media URI played to the caller (a playback of several URIs gives one record for each URI heard). */
export interface PlaybackRecord {
  /** ARI playback id (shared by the URIs of one playback). */
  id: string;
  /** The media URI as the application asked for it (e.g. 'sound:http://...'). */
  media: string;
  /** Clock time (ms) when the playback started and ended. */
  startedAt: number;
  endedAt?: number;
  state: 'playing' | 'done' | 'failed';
  /** The application stopped it (DELETE /playbacks/{id}). */
  stopped: boolean;
  /** The application stopped it after the caller pressed a key during it: barge-in. */
  bargedIn: boolean;
  /** Settles when the playback ends. */
  done: Promise<PlaybackRecord>;
}

export interface CallEnd {
  cause: number;
  causeText: string;
  /** Who ended it: this caller, the application, or the simulator (closed, restarted). */
  by: 'caller' | 'app' | 'sim';
}

export interface PressKeysOptions {
  /** Pause before each key, simulated ms; default 250. */
  gapMs?: number;
  /** Tone length reported as duration_ms; default 180 (SIP). */
  durationMs?: number;
}

interface Waiter {
  from: number;
  predicate: (p: PlaybackRecord) => boolean;
  resolve: (p: PlaybackRecord) => void;
}

export class VirtualCaller {
  readonly channelId: string;
  readonly direction: 'inbound' | 'outbound';
  /** The caller's number (inbound) or the callee's endpoint (outbound). */
  readonly number: string;
  /** Every media URI played to this channel, in order. */
  readonly playbacks: PlaybackRecord[] = [];
  /** Keys this caller pressed, in order. */
  keysPressed = '';
  readonly ended: Promise<CallEnd>;
  private endInfo: CallEnd | undefined;
  private resolveEnded!: (e: CallEnd) => void;
  private readonly finishers = new Map<string, (p: PlaybackRecord) => void>();
  private readonly waiters = new Set<Waiter>();
  private cursor = 0;

  constructor(
    private readonly sw: Softswitch,
    private readonly ch: SimChannel,
  ) {
    this.channelId = ch.id;
    this.direction = ch.direction;
    this.number = ch.direction === 'inbound' ? ch.caller.number : ch.name;
    this.ended = new Promise((r) => {
      this.resolveEnded = r;
    });
  }

  get isUp(): boolean {
    return this.endInfo === undefined;
  }

  /** Channel ids of the parties this caller is bridged with (who would hear each other). */
  get bridgedWith(): string[] {
    return this.sw.bridgedWith(this.ch).map((c) => c.id);
  }

  /** The channel's variables as the application set them. */
  variable(name: string): string | undefined {
    return this.ch.vars.get(name);
  }

  /** Presses keys one after another; resolves after the last one was sent. */
  async pressKeys(digits: string, opts: PressKeysOptions = {}): Promise<void> {
    if (!/^[0-9*#A-D]+$/.test(digits))
      throw new AppError('SIM_INVALID_INPUT', 'keys must be 0-9, *, # or A-D', { digits });
    this.assertUp();
    const gap = opts.gapMs ?? 250;
    const duration = opts.durationMs ?? 180;
    for (const d of digits) {
      await this.wait(gap + duration);
      if (!this.isUp) return;
      this.keysPressed += d;
      this.sw.dtmf(this.ch, d, duration);
    }
  }

  /**
   * Speaks a WAV (a path or its bytes): its audio becomes what the application
   * records - the current recording, or whole into the next one when none is
   * running. Resolves when it has been heard out (or the call ended).
   * `continues` places it right after the speech before it in the recording
   * (a microphone streamed in pieces), not at the moment it arrives.
   */
  async speak(wav: string | Buffer, opts: { continues?: boolean } = {}): Promise<void> {
    this.assertUp();
    const bytes = typeof wav === 'string' ? await readFile(wav) : wav;
    const info = parseWav(bytes);
    const pcm = info && toSlin(bytes, info, 8000);
    if (!pcm) throw new AppError('SIM_BAD_AUDIO', 'speech must be a 16-bit PCM WAV file');
    await new Promise<void>((said) => this.sw.speak(this.ch, pcm, said, opts.continues));
  }

  /** Stays silent for `ms` simulated milliseconds. */
  async silence(ms: number): Promise<void> {
    await this.wait(ms);
  }

  /** Hangs up (Normal Clearing); resolves once the call has ended. */
  async hangup(): Promise<CallEnd> {
    if (this.isUp) this.sw.partyHangup(this.ch, 16);
    return this.ended;
  }

  /** The next playback after the ones already returned by nextPlayback/waitForPlayback. */
  nextPlayback(timeoutMs = 5000): Promise<PlaybackRecord> {
    return this.waitForPlayback(() => true, timeoutMs);
  }

  /** The first playback from the cursor on that matches; moves the cursor past it. */
  waitForPlayback(predicate: (p: PlaybackRecord) => boolean, timeoutMs = 5000): Promise<PlaybackRecord> {
    for (let i = this.cursor; i < this.playbacks.length; i++) {
      const p = this.playbacks[i] as PlaybackRecord;
      if (predicate(p)) {
        this.cursor = i + 1;
        return Promise.resolve(p);
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        from: this.playbacks.length,
        predicate,
        resolve: (p) => {
          this.sw.clock.clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = this.sw.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        const heard = this.playbacks.map((p) => p.media);
        reject(
          new AppError('SIM_TIMEOUT', `no matching playback within ${timeoutMs} ms; heard: ${heard.join(' | ')}`, {
            heard,
          }),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** What an outbound callee does once it answered. */
  runScript(b: CalleeBehavior): void {
    for (const k of b.keys ?? [])
      this.timer(k.afterMs, () => void this.pressKeys(k.digits, { gapMs: k.gapMs ?? 250 }).catch(() => {}));
    if (b.behavior === 'machine') {
      // An answering machine talks over whatever is played, then waits for the beep: it never presses keys.
      this.sw.speak(this.ch, tone(b.greetingMs ?? 4000, 8000));
    }
    if (b.speech !== undefined) void this.speak(b.speech).catch(() => {});
    if (b.hangupAfterMs !== undefined) this.timer(b.hangupAfterMs, () => void this.hangup());
  }

  // ---- called by the softswitch ------------------------------------------------

  playbackStarted(id: string, media: string, at: number): void {
    let finish!: (p: PlaybackRecord) => void;
    const record: PlaybackRecord = {
      id,
      media,
      startedAt: at,
      state: 'playing',
      stopped: false,
      bargedIn: false,
      done: new Promise((r) => {
        finish = r;
      }),
    };
    this.finishers.set(id, finish);
    this.playbacks.push(record);
    for (const w of this.waiters) {
      if (w.predicate(record)) {
        this.waiters.delete(w);
        this.cursor = this.playbacks.length;
        w.resolve(record);
        break;
      }
    }
  }

  /** A playback of several URIs went on to the next: the one before was heard out, the next is heard now. */
  playbackContinued(id: string, media: string, at: number): void {
    this.playbackEnded(id, 'done', false, false);
    this.playbackStarted(id, media, at);
  }

  playbackEnded(id: string, state: 'done' | 'failed', stopped: boolean, bargedIn: boolean): void {
    const record = this.playbacks.find((p) => p.id === id && p.state === 'playing');
    if (!record) return;
    record.state = state;
    record.stopped = stopped;
    record.bargedIn = bargedIn;
    record.endedAt = this.sw.clock.now();
    this.finishers.get(id)?.(record);
    this.finishers.delete(id);
  }

  ended_(cause: number, causeText: string, by: CallEnd['by']): void {
    if (this.endInfo) return;
    this.endInfo = { cause, causeText, by };
    this.resolveEnded(this.endInfo);
  }

  private assertUp(): void {
    if (!this.isUp) throw new AppError('SIM_CALL_ENDED', 'the call has ended', { channelId: this.channelId });
  }

  private timer(ms: number, fn: () => void): void {
    this.sw.after(this.ch, ms, fn);
  }

  /** Waits simulated ms (a wait outlives the channel, so a hang-up never leaves it pending). */
  private wait(ms: number): Promise<void> {
    return new Promise((r) => {
      this.sw.after(undefined, ms, r);
    });
  }
}
