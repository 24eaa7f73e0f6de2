/**
 * One call as the port's Call: a thin object over one ARI channel. Requests
 * go through the adapter's REST client; events reach it from the adapter's
 * dispatcher (by channel id, never through ari-client's per-instance
 * listeners). A channel that vanished while a request was in flight ("Channel
 * not found", "not in Stasis") ends the call quietly: play resolves with a
 * playback whose outcome is 'hangup', record with outcome 'hangup', the
 * others resolve without effect.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type {
  Call,
  HangupInfo,
  PlayOptions,
  Playback,
  PlaybackOutcome,
  RecordingResult,
  RecordOptions,
} from './port.js';

export const HANGUP_REASONS = { normal: 16, busy: 17, congestion: 34, no_answer: 19 } as const;

/** What a call needs from the adapter. */
export interface CallHost {
  /**
   * Runs an ARI request; `gone` when the channel (or playback) no longer exists. Lane 'call': a caller is
   * waiting on it (a key's playback), so it goes before background work when requests queue.
   */
  request<T>(what: string, fn: (client: AriRest) => Promise<T>, lane?: RequestLane): Promise<T | typeof GONE>;
  trackPlayback(p: PendingPlayback): void;
  untrackPlayback(id: string): void;
  trackRecording(r: PendingRecording): void;
  untrackRecording(name: string): void;
  callEnded(call: AriCall): void;
  readonly log: Logger;
}

export const GONE = Symbol('gone');

/** Which queue a request waits in when the adapter's requests in flight are at their cap. */
export type RequestLane = 'call' | 'background';

/** A channel as ARI describes it (the fields this adapter reads). */
export interface AriChannelJson {
  id: string;
  state?: string;
  creationtime: string;
  caller?: { number?: string; name?: string };
  dialplan?: { exten?: string; app_data?: string };
}

type Req<P> = (params: P) => Promise<unknown>;

/**
 * The ari-client operations this adapter calls, typed here: @types/ari-client
 * covers all of ARI and is slow to load on every start of the admin CLI.
 */
export interface AriRest {
  channels: {
    answer: Req<{ channelId: string }>;
    hangup: Req<{ channelId: string; reason?: string }>;
    play: Req<{ channelId: string; media: string; playbackId: string }>;
    record: Req<{
      channelId: string;
      name: string;
      format: string;
      maxDurationSeconds: number;
      maxSilenceSeconds: number;
      beep: boolean;
      terminateOn: string;
      ifExists: string;
    }>;
    setChannelVar: Req<{ channelId: string; variable: string; value: string }>;
    originate: Req<{
      endpoint: string;
      app: string;
      appArgs: string;
      callerId?: string;
      timeout: number;
      channelId: string;
      otherChannelId?: string;
      variables: Record<string, string>;
    }>;
    get(params: { channelId: string }): Promise<AriChannelJson>;
  };
  playbacks: { stop: Req<{ playbackId: string }>; get: Req<{ playbackId: string }> };
  recordings: {
    getStoredFile(params: { recordingName: string }): Promise<Buffer>;
    deleteStored: Req<{ recordingName: string }>;
    getLive: Req<{ recordingName: string }>;
    stop: Req<{ recordingName: string }>;
    getStored: Req<{ recordingName: string }>;
  };
  applications: { get(params: { applicationName: string }): Promise<{ channel_ids: string[] }> };
  bridges: {
    create: Req<{ type: string; bridgeId: string; name?: string }>;
    addChannel: Req<{ bridgeId: string; channel: string }>;
    removeChannel: Req<{ bridgeId: string; channel: string }>;
    destroy: Req<{ bridgeId: string }>;
  };
}

/** What ari-client's connect() gives: the REST operations, on an EventEmitter. */
export type AriClient = AriRest & {
  eventNames(): (string | symbol)[];
};

export interface PendingPlayback {
  id: string;
  call: AriCall;
  stopRequested: boolean;
  settle(outcome: PlaybackOutcome): void;
}

export interface PendingRecording {
  name: string;
  call: AriCall;
  format: string;
  /** The longest the recording may run (0: no limit): its watchdog allows this plus a margin. */
  maxDurationSeconds: number;
  settle(result: RecordingResult): void;
}

const MEDIA = /^(sound|recording|tone|digits|number|characters):[^,\s]{1,2000}$/;
/** URIs in one playback: ARI takes a comma-separated list (Asterisk 22's `media`, allowMultiple). */
const MAX_MEDIA = 16;
const RECORDING_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const VARIABLE_NAME = /^[A-Za-z0-9_()]{1,64}$/;

export interface AriCallInit {
  id: string;
  direction: 'inbound' | 'outbound';
  callerNumber: string;
  callerName: string;
  dialed: string;
  args: string[];
  variables: Record<string, string>;
}

export class AriCall implements Call {
  readonly id: string;
  readonly direction: 'inbound' | 'outbound';
  readonly callerNumber: string;
  readonly callerName: string;
  readonly dialed: string;
  readonly args: readonly string[];
  readonly variables: Readonly<Record<string, string>>;
  readonly ended: Promise<HangupInfo>;
  private readonly abort = new AbortController();
  private resolveEnded!: (h: HangupInfo) => void;
  private readonly dtmfListeners = new Set<(digit: string, durationMs: number) => void>();
  /** Cause from ChannelHangupRequest (a hard one), for StasisEnd which carries none. */
  private requestedCause: number | undefined;
  private localHangup: { cause: number } | undefined;
  private readonly log: Logger;

  constructor(
    init: AriCallInit,
    private readonly host: CallHost,
  ) {
    this.id = init.id;
    this.direction = init.direction;
    this.callerNumber = init.callerNumber;
    this.callerName = init.callerName;
    this.dialed = init.dialed;
    this.args = Object.freeze([...init.args]);
    this.variables = Object.freeze({ ...init.variables });
    this.ended = new Promise((r) => {
      this.resolveEnded = r;
    });
    this.log = host.log.child({ callId: init.id });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isAlive(): boolean {
    return !this.abort.signal.aborted;
  }

  async answer(): Promise<void> {
    if (!this.isAlive) return;
    await this.host.request('answer', (c) => c.channels.answer({ channelId: this.id }), 'call');
  }

  async hangup(cause: 'normal' | 'busy' | 'congestion' | 'no_answer' = 'normal'): Promise<void> {
    if (!this.isAlive) return;
    this.localHangup ??= { cause: HANGUP_REASONS[cause] };
    await this.host.request('hangup', (c) => c.channels.hangup({ channelId: this.id, reason: cause }), 'call');
  }

  async play(media: string | readonly string[], options: PlayOptions = {}): Promise<Playback> {
    const list = typeof media === 'string' ? [media] : media;
    const bad = list.length === 0 || list.length > MAX_MEDIA ? '' : list.find((m) => !MEDIA.test(m));
    if (bad !== undefined)
      throw new AppError(
        'TELEPHONY_INVALID_INPUT',
        `media must be 1-${MAX_MEDIA} URIs: sound:, recording:, tone:, digits:, number:`,
        { media: String(bad).slice(0, 200) },
      );
    const id = options.playbackId ?? randomUUID();
    let settle!: (o: PlaybackOutcome) => void;
    const done = new Promise<PlaybackOutcome>((r) => {
      settle = r;
    });
    const pending: PendingPlayback = {
      id,
      call: this,
      stopRequested: false,
      settle: (o) => {
        this.host.untrackPlayback(id);
        unbarge();
        settle(o);
      },
    };
    // One stop request however many ask (the barge-in below and the verb that played it both do).
    let stopping: Promise<void> | undefined;
    const stop = () => {
      pending.stopRequested = true;
      stopping ??= this.host
        .request('stop playback', (c) => c.playbacks.stop({ playbackId: id }), 'call')
        .then(() => {});
      return stopping;
    };
    // Barge-in: Asterisk plays on through DTMF; the application stops the prompt at the first key.
    const unbarge =
      options.bargeIn === false
        ? () => {}
        : this.onDtmf(() => {
            stop().catch((e: Error) => this.log.warn({ err: e.message, playbackId: id }, 'barge-in stop failed'));
          });
    const playback: Playback = { id, done, stop };
    if (!this.isAlive) {
      pending.settle('hangup');
      return playback;
    }
    this.host.trackPlayback(pending);
    try {
      const r = await this.host.request(
        'play',
        (c) => c.channels.play({ channelId: this.id, media: list.join(','), playbackId: id }),
        'call',
      );
      if (r === GONE) pending.settle('hangup');
    } catch (e) {
      // A request that failed because the call went away is a hang-up, not a fault.
      pending.settle(this.isAlive ? 'failed' : 'hangup');
      if (this.isAlive) throw e;
    }
    return playback;
  }

  async record(options: RecordOptions): Promise<RecordingResult> {
    if (!RECORDING_NAME.test(options.name))
      throw new AppError('TELEPHONY_INVALID_INPUT', 'a recording name is 1-128 letters, digits, _ . -', {
        name: options.name.slice(0, 200),
      });
    const format = options.format ?? 'wav';
    const hangupResult: RecordingResult = { name: options.name, outcome: 'hangup', durationSeconds: 0, format };
    if (!this.isAlive) return hangupResult;
    const result = new Promise<RecordingResult>((resolve) => {
      this.host.trackRecording({
        name: options.name,
        call: this,
        format,
        maxDurationSeconds: options.maxDurationSeconds ?? 0,
        settle: (r) => {
          this.host.untrackRecording(options.name);
          resolve(r);
        },
      });
    });
    let r: unknown;
    try {
      r = await this.host.request(
        'record',
        (c) =>
          c.channels.record({
            channelId: this.id,
            name: options.name,
            format,
            maxDurationSeconds: options.maxDurationSeconds ?? 0,
            maxSilenceSeconds: options.maxSilenceSeconds ?? 0,
            beep: options.beep ?? false,
            terminateOn: options.terminateOn ?? '#',
            ifExists: 'overwrite',
          }),
        'call',
      );
    } catch (e) {
      this.host.untrackRecording(options.name);
      if (!this.isAlive) return hangupResult;
      this.log.warn({ err: (e as Error).message, name: options.name }, 'recording refused');
      return { name: options.name, outcome: 'failed', durationSeconds: 0, format };
    }
    if (r === GONE) {
      this.host.untrackRecording(options.name);
      return hangupResult;
    }
    return result;
  }

  onDtmf(listener: (digit: string, durationMs: number) => void): () => void {
    this.dtmfListeners.add(listener);
    return () => {
      this.dtmfListeners.delete(listener);
    };
  }

  async setVariable(name: string, value: string): Promise<void> {
    if (!VARIABLE_NAME.test(name))
      throw new AppError('TELEPHONY_INVALID_INPUT', 'a variable name is 1-64 letters, digits, _ ( )', { name });
    if (!this.isAlive) return;
    await this.host.request('set variable', (c) =>
      c.channels.setChannelVar({ channelId: this.id, variable: name, value }),
    );
  }

  // ---- from the dispatcher -----------------------------------------------------

  dtmf(digit: string, durationMs: number): void {
    for (const l of [...this.dtmfListeners]) {
      try {
        l(digit, durationMs);
      } catch (e) {
        this.log.error({ err: e }, 'DTMF listener failed');
      }
    }
  }

  hangupRequested(cause: number | undefined, soft: boolean | undefined): void {
    if (cause !== undefined && !soft) this.requestedCause = cause;
  }

  /** The channel left the application or was destroyed: the call is over. */
  end(cause: number | undefined, causeText: string | undefined): void {
    if (!this.isAlive) return;
    const c = this.localHangup?.cause ?? cause ?? this.requestedCause ?? 16;
    const info: HangupInfo = {
      cause: c,
      causeText: causeText ?? CAUSE_TEXT[c] ?? 'Unknown',
      by: this.localHangup ? 'local' : 'remote',
    };
    this.dtmfListeners.clear();
    this.abort.abort();
    this.host.callEnded(this);
    this.resolveEnded(info);
  }
}

export const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  20: 'Subscriber absent',
  21: 'Call Rejected',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
};
