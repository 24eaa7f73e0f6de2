/**
 * The simulator's model of an Asterisk: channels, Stasis applications,
 * playbacks, recordings and device states, and the ARI events they raise.
 * The ARI and AMI servers are thin protocol faces over this object.
 *
 * Rules it keeps (each seen on a real Asterisk 22, shared/asterisk-samples):
 * - A channel's events go to the application it is subscribed to: an inbound
 *   call from StasisStart on, an originated channel from its creation (so the
 *   app sees Dial, ringing, and for Local channels both halves, ;1 and ;2).
 * - An originated call that fails never gets StasisStart: busy is a Dial
 *   event with dialstatus BUSY, no answer within the timeout ends the channel
 *   with cause 19.
 * - Playbacks on a channel queue; each raises PlaybackStarted, then
 *   PlaybackFinished in state `done` (finished or stopped) or `failed` (the
 *   media could not be found or fetched). Asterisk does no barge-in itself.
 * - A recording's duration is whole seconds; the caller's speech (a WAV the
 *   virtual caller speaks) becomes its audio, silence fills the rest.
 * - Hanging up from either side raises ChannelHangupRequest, then the end of
 *   any playback or recording, then StasisEnd and (for a channel the
 *   application originated) ChannelDestroyed.
 * - An originated channel (subscribed from its creation) sees STASISSTATUS
 *   set as ChannelVarset: empty just before StasisStart, SUCCESS between
 *   StasisEnd and ChannelDestroyed. A Local channel that answers goes Up
 *   without ringing (Dial: "" then ANSWER); a phone rings first.
 * - A callee claimed by a dev phone ('phone') rings until someone answers it
 *   from outside (answerRinging) or the originate's timeout ends it.
 * Timers run on the injected clock, divided by the speed factor.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MediaResolver } from './media.js';
import { VirtualCaller } from './virtual-caller.js';
import { parseWav, slinToUlaw, toSlin, writeWav } from './wav.js';

export type ChannelState = 'Down' | 'Ring' | 'Ringing' | 'Up' | 'Busy';

export interface CallerIdent {
  name: string;
  number: string;
}

export type AriEvent = Record<string, unknown> & { type: string };

/** An error that the ARI face turns into Asterisk's response: status and `{ "message": ... }`. */
export class AriHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What an outbound callee does when the simulator rings it. */
export interface CalleeBehavior {
  behavior: 'answer' | 'busy' | 'no-answer' | 'machine' | 'unreachable' | 'phone';
  /** Ringing time before answering (answer, machine); default 1000 ms. */
  answerAfterMs?: number;
  /** Keys pressed after answering, each at `afterMs` from the answer. */
  keys?: { afterMs: number; digits: string; gapMs?: number }[];
  /** How long a machine's greeting lasts; default 4000 ms. */
  greetingMs?: number;
  /** Speech (a WAV file path or its bytes) the callee says right after answering. */
  speech?: string | Buffer;
  /** The callee hangs up by itself this long after answering. */
  hangupAfterMs?: number;
}

/** One outbound call attempt, as a test sees it. */
export interface CallAttempt {
  endpoint: string;
  callee: string;
  callerId: CallerIdent;
  variables: Record<string, string>;
  appArgs: string[];
  outcome: 'ringing' | 'answered' | 'busy' | 'no-answer' | 'unreachable' | 'cancelled';
  caller?: VirtualCaller;
}

interface SimPlayback {
  id: string;
  media: string[];
  index: number;
  language: string;
  state: 'queued' | 'playing' | 'continuing' | 'done' | 'failed';
  channel: SimChannel;
  timer?: TimerHandle;
  stoppedByApp: boolean;
  keysDuring: number;
  startedAt?: number;
  /** A dialplan playback: what the dialplan does next. */
  then?: () => void;
}

interface LiveRecording {
  name: string;
  format: string;
  channel: SimChannel;
  state: 'queued' | 'recording' | 'done' | 'failed' | 'canceled';
  startedAt: number;
  maxDurationMs: number;
  maxSilenceMs: number;
  terminateOn: string;
  ifExists: string;
  /** Speech samples (signed linear, 8 kHz) and when each began, in simulated ms since start. */
  speech: { atMs: number; pcm: Buffer }[];
  maxTimer?: TimerHandle;
  silenceTimer?: TimerHandle;
}

export interface StoredRecording {
  name: string;
  format: string;
  data: Buffer;
  durationMs: number;
}

export interface SimBridge {
  id: string;
  name: string;
  type: string;
  channels: Set<string>;
  creationtime: string;
}

export interface SimChannel {
  id: string;
  name: string;
  state: ChannelState;
  caller: CallerIdent;
  connected: CallerIdent;
  dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime: string;
  language: string;
  direction: 'inbound' | 'outbound';
  app: string | undefined;
  inStasis: boolean;
  args: string[];
  vars: Map<string, string>;
  dead: boolean;
  /** The ;2 half of a Local channel (only raises events). */
  half?: SimChannel;
  party?: VirtualCaller;
  playQueue: SimPlayback[];
  playing?: SimPlayback;
  recording?: LiveRecording;
  /** Speech queued by the party before a recording started, with who waits for it to be said. */
  pendingSpeech: { pcm: Buffer; said: () => void }[];
  /** Device (PJSIP/<endpoint>) whose state follows this call, for AMI. */
  device?: string;
  /** The outbound attempt this channel is (outbound only). */
  attempt?: CallAttempt;
  /** The bridge the channel is in. */
  bridge?: SimBridge;
  /** Answers a ringing 'phone' callee (set while it rings). */
  pickUp?: () => void;
  timers: Set<TimerHandle>;
}

const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  20: 'Subscriber absent',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  41: 'Temporary failure',
};
const HANGUP_REASONS: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 19,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};
/** AST_SOFTHANGUP_EXPLICIT: what Asterisk reports as `cause` when ARI hangs a channel up. */
const SOFTHANGUP_EXPLICIT = 32;
const RECORD_FORMATS = ['wav', 'wav16', 'sln', 'sln16', 'ulaw'];
/** A device as Asterisk names it: technology/resource (PJSIP/bob-desk). */
const DEVICE_NAME = /^[A-Za-z][A-Za-z0-9]{0,15}\/[A-Za-z0-9_.+-]{1,64}$/;
const SAFE_NAME = /^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+/-]{0,127}$/;

export interface SoftswitchOptions {
  speedFactor: number;
  clock: Clock;
  log: Logger;
  media: MediaResolver;
  /** The application inbound calls go to unless told otherwise. */
  defaultApp: string;
  asteriskId?: string;
}

export type DeviceStateListener = (device: string, state: string) => void;

/** A call ringing a callee claimed by a dev phone. */
export interface RingingCall {
  channelId: string;
  callee: string;
  endpoint: string;
  callerId: CallerIdent;
}

export class Softswitch {
  readonly channels = new Map<string, SimChannel>();
  readonly playbacks = new Map<string, SimPlayback>();
  readonly liveRecordings = new Map<string, LiveRecording>();
  readonly storedRecordings = new Map<string, StoredRecording>();
  /**
   * A fault to test against: PlaybackFinished and RecordingFinished are lost (as an event can be lost
   * on a real Asterisk's WebSocket without a reconnect). The media still ends; nobody is told.
   */
  dropFinishedEvents = false;
  readonly deviceStates = new Map<string, string>();
  readonly bridges = new Map<string, SimBridge>();
  /** Every outbound attempt, in order. */
  readonly attempts: CallAttempt[] = [];
  readonly asteriskId: string;
  private readonly registeredApps = new Set<string>();
  /** Applications known to Asterisk: registered now, or still holding channels. */
  private readonly knownApps = new Set<string>();
  private readonly callees = new Map<string, CalleeBehavior>();
  private defaultCallee: CalleeBehavior = { behavior: 'no-answer' };
  private readonly calleeWaiters = new Map<string, ((c: VirtualCaller) => void)[]>();
  private readonly outboundListeners = new Set<(c: VirtualCaller, a: CallAttempt) => void>();
  private readonly inboundListeners = new Set<(c: VirtualCaller) => void>();
  private readonly deviceListeners = new Set<DeviceStateListener>();
  private sink: (app: string, e: AriEvent) => void = () => {};
  /** Whoever watches every event (the dev phone's event stream). */
  private readonly taps = new Set<(e: AriEvent) => void>();
  private readonly ringingListeners = new Set<(r: RingingCall) => void>();
  /** Event sources each application subscribed to (POST /applications/{name}/subscription). */
  readonly subscriptions = new Map<string, Set<string>>();
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: SoftswitchOptions) {
    this.asteriskId = opts.asteriskId ?? '02:00:00:5e:00:01';
  }

  get speedFactor(): number {
    return this.opts.speedFactor;
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  get log(): Logger {
    return this.opts.log;
  }

  /** Where events go (the ARI face): called once per event and application. */
  setSink(sink: (app: string, e: AriEvent) => void): void {
    this.sink = sink;
  }

  registerApp(app: string): void {
    this.registeredApps.add(app);
    this.knownApps.add(app);
    for (const l of [...this.appListeners]) l(app);
  }

  /** Hears each registration of an application (its events WebSocket connected). */
  onAppRegistered(listener: (app: string) => void): () => void {
    this.appListeners.add(listener);
    return () => this.appListeners.delete(listener);
  }

  private readonly appListeners = new Set<(app: string) => void>();

  unregisterApp(app: string): void {
    this.registeredApps.delete(app);
  }

  isRegistered(app: string): boolean {
    return this.registeredApps.has(app);
  }

  appNames(): string[] {
    return [...this.knownApps];
  }

  appInfo(app: string): Record<string, unknown> | undefined {
    if (!this.knownApps.has(app)) return undefined;
    const ids = [...this.channels.values()].filter((c) => c.app === app && c.inStasis && !c.dead).map((c) => c.id);
    const subs = [...(this.subscriptions.get(app) ?? [])];
    const of = (scheme: string) =>
      subs.filter((x) => x.startsWith(`${scheme}:`)).map((x) => x.slice(scheme.length + 1));
    return {
      name: app,
      channel_ids: [...new Set([...ids, ...of('channel')])],
      bridge_ids: of('bridge'),
      endpoint_ids: of('endpoint'),
      device_names: of('deviceState'),
      events_allowed: [],
      events_disallowed: [],
    };
  }

  /** Every event as it is sent, to any application. */
  onEvent(listener: (e: AriEvent) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Calls ringing a 'phone' callee, as they start to ring. */
  onRinging(listener: (r: RingingCall) => void): () => void {
    this.ringingListeners.add(listener);
    return () => this.ringingListeners.delete(listener);
  }

  /** Answers a call that rings a 'phone' callee; false when no such call rings. */
  answerRinging(channelId: string): boolean {
    const ch = this.channels.get(channelId);
    if (!ch?.pickUp || ch.dead) return false;
    ch.pickUp();
    return true;
  }

  /** An event for an application, not tied to a channel (user events, device states). */
  emitToApp(app: string, type: string, fields: Record<string, unknown>): void {
    const e: AriEvent = {
      type,
      timestamp: this.timestamp(),
      ...fields,
      asterisk_id: this.asteriskId,
      application: app,
    };
    this.sink(app, e);
    for (const tap of this.taps) tap(e);
  }

  /** Simulated milliseconds become real timer milliseconds. */
  scaled(ms: number): number {
    return ms / this.opts.speedFactor;
  }

  /** A timer owned by a channel: cancelled when the channel goes. */
  after(ch: SimChannel | undefined, ms: number, fn: () => void): TimerHandle {
    const handle = this.opts.clock.setTimeout(() => {
      ch?.timers.delete(handle);
      this.globalTimers.delete(handle);
      if (!this.closed) fn();
    }, this.scaled(ms));
    (ch?.timers ?? this.globalTimers).add(handle);
    return handle;
  }

  private readonly globalTimers = new Set<TimerHandle>();

  cancel(ch: SimChannel | undefined, handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.opts.clock.clearTimeout(handle);
    ch?.timers.delete(handle);
    this.globalTimers.delete(handle);
  }

  private timestamp(): string {
    return new Date(this.opts.clock.now()).toISOString().replace('Z', '+0000');
  }

  private newId(): string {
    this.seq++;
    return `${Math.floor(this.opts.clock.now() / 1000)}.${this.seq}`;
  }

  snapshot(ch: SimChannel): Record<string, unknown> {
    return {
      id: ch.id,
      name: ch.name,
      state: ch.state,
      protocol_id: '',
      caller: { ...ch.caller },
      connected: { ...ch.connected },
      accountcode: '',
      dialplan: { ...ch.dialplan },
      creationtime: ch.creationtime,
      language: ch.language,
    };
  }

  private emit(ch: SimChannel, type: string, fields: Record<string, unknown>): void {
    if (!ch.app) return;
    if (this.dropFinishedEvents && (type === 'PlaybackFinished' || type === 'RecordingFinished')) return;
    this.emitToApp(ch.app, type, fields);
  }

  private emitChannel(ch: SimChannel, type: string, fields: Record<string, unknown> = {}): void {
    this.emit(ch, type, { ...fields, channel: this.snapshot(ch) });
  }

  private makeChannel(init: {
    id?: string;
    name: string;
    state: ChannelState;
    caller: CallerIdent;
    dialplan: SimChannel['dialplan'];
    direction: SimChannel['direction'];
    app: string | undefined;
  }): SimChannel {
    const ch: SimChannel = {
      id: init.id ?? this.newId(),
      name: init.name,
      state: init.state,
      caller: init.caller,
      connected: { name: '', number: '' },
      dialplan: init.dialplan,
      creationtime: this.timestamp(),
      language: 'en',
      direction: init.direction,
      app: init.app,
      inStasis: false,
      args: [],
      vars: new Map(),
      dead: false,
      playQueue: [],
      pendingSpeech: [],
      timers: new Set(),
    };
    this.channels.set(ch.id, ch);
    return ch;
  }

  private seqName(): string {
    return (this.seq + 1).toString(16).padStart(8, '0');
  }

  // ---- inbound ---------------------------------------------------------------

  /**
   * A caller dials `to` from `from`: the dialplan answers and hands the call
   * to the application. As on Asterisk, when that application is not
   * registered Stasis() fails (STASISSTATUS=FAILED) and the dialplan goes on:
   * the caller hears ss-noservice and is hung up with cause 41. A call from a
   * `device` ('PJSIP/bob-desk') puts that device in use until it ends; with
   * `toApp: false` the dialplan sends it elsewhere (another phone, the trunk)
   * and the application never sees it - only AMI does.
   */
  placeCall(opts: {
    from: string;
    to: string;
    name?: string;
    /** Straight into this application (AMI Originate with Application=Stasis): fails when it is not registered. */
    app?: string;
    answered?: boolean;
    context?: string;
    device?: string;
    toApp?: boolean;
  }): VirtualCaller {
    const app = opts.app ?? this.opts.defaultApp;
    const isRegistered = this.isRegistered(app);
    if (opts.app !== undefined && !isRegistered)
      throw new AppError('SIM_APP_NOT_REGISTERED', `no ARI application ${app} is connected`, { app });
    if (!/^[0-9A-Za-z*#+]{1,32}$/.test(opts.to) || !/^[0-9A-Za-z*#+ ()-]{0,32}$/.test(opts.from))
      throw new AppError('SIM_INVALID_INPUT', 'from and to must be dial strings', { from: opts.from, to: opts.to });
    if (opts.device !== undefined && !DEVICE_NAME.test(opts.device))
      throw new AppError('SIM_INVALID_INPUT', 'a device looks like PJSIP/bob-desk', { device: opts.device });
    const toApp = opts.toApp ?? true;
    const intoApp = toApp && isRegistered;
    const answered = opts.answered ?? true;
    const ch = this.makeChannel({
      name: `${opts.device ?? 'PJSIP/sim-trunk'}-${this.seqName()}`,
      state: answered ? 'Up' : 'Ring',
      caller: { name: opts.name ?? '', number: opts.from },
      dialplan: {
        context: opts.context ?? 'phoneim-inbound',
        exten: opts.to,
        priority: answered ? 3 : 2,
        app_name: toApp ? 'Stasis' : 'Dial',
        app_data: toApp ? `${app},${opts.to}` : opts.to,
      },
      direction: 'inbound',
      app: intoApp ? app : undefined,
    });
    const caller = new VirtualCaller(this, ch);
    ch.party = caller;
    if (opts.device) {
      ch.device = opts.device;
      this.setDeviceState(opts.device, 'INUSE');
    }
    if (intoApp) {
      ch.inStasis = true;
      ch.args = [opts.to];
      this.emitChannel(ch, 'StasisStart', { args: ch.args });
    } else if (toApp) {
      ch.vars.set('STASISSTATUS', 'FAILED');
      this.dialplanPlayback(ch, 'sound:ss-noservice', () => this.destroy(ch, 41, undefined));
    }
    for (const l of this.inboundListeners) l(caller);
    return caller;
  }

  /** The dialplan's Playback(): heard by the party, seen by no application; `then` runs when it ends. */
  private dialplanPlayback(ch: SimChannel, media: string, then: () => void): void {
    ch.playQueue.push({
      id: randomUUID(),
      media: [media],
      index: 0,
      language: ch.language,
      state: 'queued',
      channel: ch,
      stoppedByApp: false,
      keysDuring: 0,
      then,
    });
    this.after(ch, 0, () => this.startNext(ch));
  }

  onInboundCall(listener: (c: VirtualCaller) => void): () => void {
    this.inboundListeners.add(listener);
    return () => this.inboundListeners.delete(listener);
  }

  // ---- outbound --------------------------------------------------------------

  setCallee(key: string, behavior: CalleeBehavior): void {
    this.callees.set(key, behavior);
  }

  /** How a callee was set to behave, if it was. */
  calleeOf(key: string): CalleeBehavior | undefined {
    return this.callees.get(key);
  }

  removeCallee(key: string): void {
    this.callees.delete(key);
  }

  /** The dev phone declines a call that rings it: busy, as a phone that rejects. */
  rejectRinging(channelId: string): boolean {
    const ch = this.channels.get(channelId);
    if (!ch?.pickUp || ch.dead) return false;
    ch.pickUp = undefined;
    if (ch.attempt) ch.attempt.outcome = 'busy';
    this.emit(ch, 'Dial', { peer: this.snapshot(ch), forward: '', dialstring: ch.name, dialstatus: 'BUSY' });
    this.destroy(ch, 17, 17);
    return true;
  }

  setDefaultCallee(behavior: CalleeBehavior): void {
    this.defaultCallee = behavior;
  }

  /** The next call a callee answers (resolves with its VirtualCaller). */
  nextAnsweredCall(key: string): Promise<VirtualCaller> {
    return new Promise((resolve) => {
      const list = this.calleeWaiters.get(key) ?? [];
      list.push(resolve);
      this.calleeWaiters.set(key, list);
    });
  }

  onOutboundCall(listener: (c: VirtualCaller, a: CallAttempt) => void): () => void {
    this.outboundListeners.add(listener);
    return () => this.outboundListeners.delete(listener);
  }

  originate(p: {
    endpoint?: string;
    app?: string;
    appArgs?: string;
    callerId?: string;
    timeout?: number;
    channelId?: string;
    otherChannelId?: string;
    variables?: Record<string, string>;
  }): Record<string, unknown> {
    if (!p.endpoint) throw new AriHttpError(400, 'Endpoint parameter not provided');
    const m = /^(PJSIP|SIP|Local|IAX2|DAHDI)\/([^/]+)$/.exec(p.endpoint);
    if (!m) throw new AriHttpError(400, 'Endpoint technology not found');
    const [, tech = '', resource = ''] = m;
    if (!p.app) throw new AriHttpError(400, 'Application or extension must be specified');
    for (const id of [p.channelId, p.otherChannelId])
      if (id !== undefined && (this.channels.has(id) || !SAFE_NAME.test(id)))
        throw new AriHttpError(409, 'Channel with given unique ID already exists');
    const callee = resource.split('@')[0] ?? resource;
    const callerId = parseCallerId(p.callerId ?? '');
    const suffix = this.seqName();
    const isLocal = tech === 'Local';
    const context = isLocal ? (resource.split('@')[1] ?? 'default') : 'default';
    const ch = this.makeChannel({
      id: p.channelId,
      name: isLocal ? `Local/${resource}-${suffix};1` : `${tech}/${resource.split('@')[1] ?? resource}-${suffix}`,
      state: 'Down',
      caller: callerId,
      dialplan: {
        context,
        exten: 's',
        priority: 1,
        app_name: 'Stasis',
        app_data: [p.app, p.appArgs].filter(Boolean).join(','),
      },
      direction: 'outbound',
      app: p.app,
    });
    ch.connected = { ...callerId };
    ch.args = p.appArgs ? p.appArgs.split(',') : [];
    if (isLocal) {
      ch.half = this.makeChannel({
        id: p.otherChannelId,
        name: `Local/${resource}-${suffix};2`,
        state: 'Ring',
        caller: callerId,
        dialplan: { context, exten: callee, priority: 1, app_name: '', app_data: '' },
        direction: 'outbound',
        app: p.app,
      });
    } else if (!resource.includes('@')) {
      ch.device = `${tech}/${resource}`;
    }
    const variables = p.variables ?? {};
    for (const [k, v] of Object.entries(variables)) {
      ch.vars.set(k, String(v));
      this.emitChannel(ch.half ?? ch, 'ChannelVarset', { variable: k, value: String(v) });
    }
    const behavior = this.callees.get(p.endpoint) ?? this.callees.get(callee) ?? this.defaultCallee;
    const attempt: CallAttempt = {
      endpoint: p.endpoint,
      callee,
      callerId,
      variables: { ...variables },
      appArgs: ch.args,
      outcome: 'ringing',
    };
    this.attempts.push(attempt);
    ch.attempt = attempt;
    const snapshot = this.snapshot(ch);
    const timeoutMs = p.timeout === undefined ? 30_000 : p.timeout < 0 ? Number.POSITIVE_INFINITY : p.timeout * 1000;
    // The HTTP response goes out before the first event, as on Asterisk.
    this.after(ch, 1, () => this.dial(ch, resource, behavior, timeoutMs, attempt, callee));
    return snapshot;
  }

  private dial(
    ch: SimChannel,
    dialstring: string,
    b: CalleeBehavior,
    timeoutMs: number,
    attempt: CallAttempt,
    callee: string,
  ): void {
    const dialEvent = (dialstatus: string) =>
      this.emit(ch, 'Dial', { peer: this.snapshot(ch), forward: '', dialstring, dialstatus });
    dialEvent('');
    if (b.behavior === 'unreachable') {
      dialEvent('CHANUNAVAIL');
      attempt.outcome = 'unreachable';
      this.destroy(ch, 20, undefined);
      return;
    }
    if (b.behavior === 'busy') {
      if (ch.half) this.setState(ch.half, 'Busy');
      dialEvent('BUSY');
      attempt.outcome = 'busy';
      if (ch.half) this.emitChannel(ch.half, 'ChannelHangupRequest', { cause: 0 });
      // A Local channel's ;1 half ends with cause 0 on Asterisk; a SIP channel with 17.
      this.destroy(ch, ch.half ? 0 : 17, 17);
      return;
    }
    const answerAfter = b.answerAfterMs ?? 1000;
    const isPhone = b.behavior === 'phone';
    const willAnswer = !isPhone && b.behavior !== 'no-answer' && answerAfter < timeoutMs;
    // A Local channel whose far half answers goes Up without ringing (as Asterisk 22 shows it).
    if (!(ch.half && willAnswer)) {
      this.setState(ch, 'Ringing');
      dialEvent('RINGING');
      if (ch.device) this.setDeviceState(ch.device, 'RINGING');
    }
    if (!willAnswer) {
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        const noAnswer = this.after(ch, timeoutMs, () => {
          ch.pickUp = undefined;
          attempt.outcome = 'no-answer';
          if (ch.half) this.emitChannel(ch.half, 'ChannelHangupRequest', { cause: 19 });
          this.destroy(ch, 19, 19);
        });
        if (isPhone)
          ch.pickUp = () => {
            ch.pickUp = undefined;
            this.cancel(ch, noAnswer);
            this.answered(ch, b, attempt, callee, dialEvent);
          };
      }
      if (isPhone)
        for (const l of this.ringingListeners)
          l({ channelId: ch.id, callee, endpoint: attempt.endpoint, callerId: { ...attempt.callerId } });
      return;
    }
    this.after(ch, answerAfter, () => this.answered(ch, b, attempt, callee, dialEvent));
  }

  private answered(
    ch: SimChannel,
    b: CalleeBehavior,
    attempt: CallAttempt,
    callee: string,
    dialEvent: (status: string) => void,
  ): void {
    if (ch.half) this.setState(ch.half, 'Up');
    this.setState(ch, 'Up');
    dialEvent('ANSWER');
    if (ch.device) this.setDeviceState(ch.device, 'INUSE');
    ch.inStasis = true;
    const party = new VirtualCaller(this, ch);
    ch.party = party;
    attempt.outcome = 'answered';
    attempt.caller = party;
    ch.vars.set('STASISSTATUS', '');
    this.emitChannel(ch, 'ChannelVarset', { variable: 'STASISSTATUS', value: '' });
    this.emitChannel(ch, 'StasisStart', { args: ch.args });
    for (const l of this.outboundListeners) l(party, attempt);
    for (const key of [attempt.endpoint, callee]) {
      const waiters = this.calleeWaiters.get(key);
      const next = waiters?.shift();
      if (next) {
        next(party);
        break;
      }
    }
    party.runScript(b);
  }

  private setState(ch: SimChannel, state: ChannelState): void {
    if (ch.state === state) return;
    ch.state = state;
    this.emitChannel(ch, 'ChannelStateChange');
  }

  // ---- call control ----------------------------------------------------------

  channel(id: string): SimChannel {
    const ch = this.channels.get(id);
    if (!ch || ch.dead) throw new AriHttpError(404, 'Channel not found');
    return ch;
  }

  private stasisChannel(id: string): SimChannel {
    const ch = this.channel(id);
    if (!ch.inStasis) throw new AriHttpError(409, 'Channel not in Stasis application');
    return ch;
  }

  answer(id: string): void {
    const ch = this.stasisChannel(id);
    this.setState(ch, 'Up');
  }

  ring(id: string): void {
    this.stasisChannel(id);
  }

  /** The application hangs up (DELETE /channels/{id}). */
  hangup(id: string, reason?: string, reasonCode?: string): void {
    const ch = this.channel(id);
    let cause = 16;
    if (reasonCode !== undefined) {
      cause = Number(reasonCode);
      if (!Number.isInteger(cause) || cause < 0 || cause > 127)
        throw new AriHttpError(400, 'Invalid reason for hangup provided');
    } else if (reason !== undefined) {
      const c = HANGUP_REASONS[reason];
      if (c === undefined) throw new AriHttpError(400, 'Invalid reason for hangup provided');
      cause = c;
    }
    if (ch.attempt?.outcome === 'ringing') ch.attempt.outcome = 'cancelled';
    this.emitChannel(ch, 'ChannelHangupRequest', { cause: SOFTHANGUP_EXPLICIT, soft: true });
    this.destroy(ch, cause, undefined, 'app');
  }

  /** The far end hangs up. */
  partyHangup(ch: SimChannel, cause = 16): void {
    if (ch.dead) return;
    this.emitChannel(ch, 'ChannelHangupRequest', { cause });
    this.destroy(ch, cause, undefined, 'caller');
  }

  /** Ends a channel: its playback and recording, StasisEnd, ChannelDestroyed. */
  private destroy(
    ch: SimChannel,
    cause: number,
    halfCause: number | undefined,
    by: 'app' | 'caller' | 'sim' = 'sim',
  ): void {
    if (ch.dead) return;
    ch.dead = true;
    const playing = ch.playing;
    for (const pb of ch.playQueue) this.playbacks.delete(pb.id);
    ch.playQueue = [];
    if (playing) this.finishPlayback(playing, 'done');
    if (ch.recording) this.finishRecording(ch.recording, 'hangup');
    for (const t of ch.timers) this.opts.clock.clearTimeout(t);
    ch.timers.clear();
    for (const s of ch.pendingSpeech.splice(0)) s.said();
    if (ch.bridge) this.leaveBridge(ch);
    if (ch.half && !ch.half.dead) {
      ch.half.dead = true;
      const hc = halfCause ?? cause;
      this.emitChannel(ch.half, 'ChannelDestroyed', { cause: hc, cause_txt: CAUSE_TEXT[hc] ?? 'Unknown' });
      this.channels.delete(ch.half.id);
    }
    if (ch.inStasis) {
      this.emitChannel(ch, 'StasisEnd');
      // Still subscribed to a channel it originated, the application sees how Stasis ended.
      if (ch.direction === 'outbound') {
        ch.vars.set('STASISSTATUS', 'SUCCESS');
        this.emitChannel(ch, 'ChannelVarset', { variable: 'STASISSTATUS', value: 'SUCCESS' });
      }
    }
    // A call that came in through the dialplan was the application's only while in Stasis: after
    // StasisEnd it hears nothing more of it (Asterisk 22 sends no ChannelDestroyed for it).
    if (!(ch.inStasis && ch.direction === 'inbound'))
      this.emitChannel(ch, 'ChannelDestroyed', { cause, cause_txt: CAUSE_TEXT[cause] ?? 'Unknown' });
    this.channels.delete(ch.id);
    if (ch.device) this.setDeviceState(ch.device, 'NOT_INUSE');
    ch.party?.ended_(cause, CAUSE_TEXT[cause] ?? 'Unknown', by);
  }

  setVar(id: string, variable: string | undefined, value: string): void {
    const ch = this.channel(id);
    if (!variable) throw new AriHttpError(400, 'Variable name is required');
    ch.vars.set(variable, value);
    this.emitChannel(ch, 'ChannelVarset', { variable, value });
  }

  getVar(id: string, variable: string | undefined): string {
    const ch = this.channel(id);
    if (!variable) throw new AriHttpError(400, 'Variable name is required');
    const v = ch.vars.get(variable);
    if (v === undefined) throw new AriHttpError(404, 'Provided variable was not found');
    return v;
  }

  /** A DTMF digit from the far end. */
  dtmf(ch: SimChannel, digit: string, durationMs: number): void {
    if (ch.dead) return;
    if (ch.playing) ch.playing.keysDuring++;
    this.emitChannel(ch, 'ChannelDtmfReceived', { digit, duration_ms: durationMs });
    const rec = ch.recording;
    if (rec?.state === 'recording') {
      const t = rec.terminateOn;
      if (t === 'any' || t === digit) this.finishRecording(rec, 'done');
    }
  }

  // ---- playback --------------------------------------------------------------

  play(channelId: string, media: string[], playbackId: string | undefined, lang: string | undefined) {
    const ch = this.stasisChannel(channelId);
    if (media.length === 0 || media.some((m) => m === '')) throw new AriHttpError(400, 'Missing parameter media');
    const id = playbackId ?? randomUUID();
    if (this.playbacks.has(id)) throw new AriHttpError(409, 'A playback with that id already exists');
    const pb: SimPlayback = {
      id,
      media,
      index: 0,
      language: lang ?? ch.language,
      state: 'queued',
      channel: ch,
      stoppedByApp: false,
      keysDuring: 0,
    };
    this.playbacks.set(id, pb);
    ch.playQueue.push(pb);
    const snap = this.playbackJson(pb);
    if (!ch.playing) this.after(ch, 0, () => this.startNext(ch));
    return snap;
  }

  playbackJson(pb: SimPlayback): Record<string, unknown> {
    const json: Record<string, unknown> = {
      id: pb.id,
      media_uri: pb.media[pb.index],
      target_uri: `channel:${pb.channel.id}`,
      language: pb.language,
      state: pb.state,
    };
    if (pb.index + 1 < pb.media.length) json.next_media_uri = pb.media[pb.index + 1];
    return json;
  }

  private startNext(ch: SimChannel): void {
    if (ch.playing || ch.dead) return;
    const pb = ch.playQueue.shift();
    if (!pb) return;
    ch.playing = pb;
    pb.state = 'playing';
    pb.startedAt = this.opts.clock.now();
    this.emit(ch, 'PlaybackStarted', { playback: this.playbackJson(pb) });
    ch.party?.playbackStarted(pb.id, pb.media[0] ?? '', pb.startedAt);
    this.playMedia(pb);
  }

  private playMedia(pb: SimPlayback): void {
    const uri = pb.media[pb.index] ?? '';
    void this.opts.media.resolve(uri, pb.language).then((r) => {
      if (pb.state !== 'playing' && pb.state !== 'continuing') return;
      if (!r.ok) {
        this.opts.log.debug({ uri, reason: r.reason }, 'playback failed');
        this.finishPlayback(pb, 'failed');
        return;
      }
      if (r.durationMs === Number.POSITIVE_INFINITY) return;
      pb.timer = this.after(pb.channel, r.durationMs, () => {
        pb.timer = undefined;
        if (pb.index + 1 < pb.media.length) {
          pb.index++;
          pb.state = 'continuing';
          this.emit(pb.channel, 'PlaybackContinuing', { playback: this.playbackJson(pb) });
          pb.channel.party?.playbackContinued(pb.id, pb.media[pb.index] ?? '', this.opts.clock.now());
          this.playMedia(pb);
        } else this.finishPlayback(pb, 'done');
      });
    });
  }

  private finishPlayback(pb: SimPlayback, state: 'done' | 'failed'): void {
    const ch = pb.channel;
    this.cancel(ch, pb.timer);
    pb.state = state;
    this.playbacks.delete(pb.id);
    if (ch.playing === pb) ch.playing = undefined;
    this.emit(ch, 'PlaybackFinished', { playback: this.playbackJson(pb) });
    ch.party?.playbackEnded(pb.id, state, pb.stoppedByApp, pb.stoppedByApp && pb.keysDuring > 0);
    if (!ch.dead) this.after(ch, 0, () => this.startNext(ch));
    if (!ch.dead) pb.then?.();
  }

  getPlayback(id: string): Record<string, unknown> {
    const pb = this.playbacks.get(id);
    if (!pb) throw new AriHttpError(404, 'Playback not found');
    return this.playbackJson(pb);
  }

  stopPlayback(id: string): void {
    const pb = this.playbacks.get(id);
    if (!pb) throw new AriHttpError(404, 'Playback not found');
    pb.stoppedByApp = true;
    if (pb.state === 'queued') {
      pb.channel.playQueue = pb.channel.playQueue.filter((x) => x !== pb);
      pb.state = 'done';
      this.playbacks.delete(pb.id);
      this.emit(pb.channel, 'PlaybackFinished', { playback: this.playbackJson(pb) });
      return;
    }
    this.finishPlayback(pb, 'done');
  }

  // ---- recording -------------------------------------------------------------

  record(
    channelId: string,
    p: {
      name?: string;
      format?: string;
      maxDurationSeconds?: number;
      maxSilenceSeconds?: number;
      ifExists?: string;
      beep?: boolean;
      terminateOn?: string;
    },
  ): Record<string, unknown> {
    const ch = this.channel(channelId);
    if (!p.name || !SAFE_NAME.test(p.name) || p.name.includes('..')) throw new AriHttpError(400, 'Invalid parameters');
    if (!p.format) throw new AriHttpError(400, 'Missing parameter format');
    const ifExists = p.ifExists ?? 'fail';
    const terminateOn = p.terminateOn ?? 'none';
    if (!['fail', 'overwrite', 'append'].includes(ifExists)) throw new AriHttpError(400, 'ifExists invalid');
    if (!/^(none|any|[0-9*#])$/.test(terminateOn)) throw new AriHttpError(400, 'terminateOn invalid');
    if ((p.maxDurationSeconds ?? 0) < 0 || (p.maxSilenceSeconds ?? 0) < 0)
      throw new AriHttpError(400, 'maxDurationSeconds and maxSilenceSeconds must be positive');
    if (!ch.inStasis) throw new AriHttpError(409, 'Channel not in Stasis application');
    if (this.liveRecordings.has(p.name) || (ifExists === 'fail' && this.storedRecordings.has(p.name)))
      throw new AriHttpError(409, 'Recording with same name already exists on the system');
    if (ch.recording) throw new AriHttpError(409, 'Channel is already recording');
    if (!RECORD_FORMATS.includes(p.format)) throw new AriHttpError(422, 'Recording format not supported');
    const rec: LiveRecording = {
      name: p.name,
      format: p.format,
      channel: ch,
      state: 'queued',
      startedAt: 0,
      maxDurationMs: (p.maxDurationSeconds ?? 0) * 1000,
      maxSilenceMs: (p.maxSilenceSeconds ?? 0) * 1000,
      terminateOn,
      ifExists,
      speech: [],
    };
    this.liveRecordings.set(rec.name, rec);
    ch.recording = rec;
    const snap = this.recordingJson(rec);
    this.after(ch, p.beep ? 250 : 1, () => this.startRecording(rec));
    return snap;
  }

  private recordingJson(rec: LiveRecording, durationSeconds?: number): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: rec.name,
      format: rec.format,
      state: rec.state,
      target_uri: `channel:${rec.channel.id}`,
    };
    if (durationSeconds !== undefined) json.duration = durationSeconds;
    return json;
  }

  private startRecording(rec: LiveRecording): void {
    if (rec.state !== 'queued') return;
    rec.state = 'recording';
    rec.startedAt = this.opts.clock.now();
    this.emit(rec.channel, 'RecordingStarted', { recording: this.recordingJson(rec) });
    if (rec.maxDurationMs > 0)
      rec.maxTimer = this.after(rec.channel, rec.maxDurationMs, () => this.finishRecording(rec, 'done'));
    const pending = rec.channel.pendingSpeech.splice(0);
    if (pending.length > 0) for (const s of pending) this.speechInto(rec, s.pcm, s.said, 0);
    else this.armSilence(rec, 0);
  }

  /** Simulated ms since the recording started. */
  private recElapsed(rec: LiveRecording): number {
    return (this.opts.clock.now() - rec.startedAt) * this.opts.speedFactor;
  }

  /**
   * The party speaks (PCM, 8 kHz): into the live recording, or kept whole for
   * the next one (so a test may speak before the application starts
   * recording). `said` runs once the speech has been heard out, or the call ended.
   */
  speak(ch: SimChannel, pcm: Buffer, said: () => void = () => {}, continues = false): void {
    if (ch.dead) {
      said();
      return;
    }
    const rec = ch.recording;
    if (rec?.state === 'recording') {
      const last = rec.speech.at(-1);
      this.speechInto(rec, pcm, said, continues && last ? last.atMs + last.pcm.length / 16 : this.recElapsed(rec));
    } else ch.pendingSpeech.push({ pcm, said });
  }

  private speechInto(rec: LiveRecording, pcm: Buffer, said: () => void, from = this.recElapsed(rec)): void {
    const now = this.recElapsed(rec);
    const last = rec.speech.at(-1);
    const lastEnd = last ? last.atMs + last.pcm.length / 16 : 0;
    const atMs = Math.max(from, lastEnd);
    rec.speech.push({ atMs, pcm });
    this.after(undefined, Math.max(0, atMs + pcm.length / 16 - now), said);
    this.armSilence(rec, atMs + pcm.length / 16);
  }

  /** Re-arms the silence timer: the recording ends after maxSilence of quiet following `speechEndMs`. */
  private armSilence(rec: LiveRecording, speechEndMs: number): void {
    if (rec.maxSilenceMs <= 0) return;
    this.cancel(rec.channel, rec.silenceTimer);
    const wait = Math.max(0, speechEndMs - this.recElapsed(rec)) + rec.maxSilenceMs;
    rec.silenceTimer = this.after(rec.channel, wait, () => this.finishRecording(rec, 'silence'));
  }

  private finishRecording(rec: LiveRecording, why: 'done' | 'silence' | 'hangup' | 'cancel'): void {
    if (rec.state !== 'recording' && rec.state !== 'queued') return;
    this.cancel(rec.channel, rec.maxTimer);
    this.cancel(rec.channel, rec.silenceTimer);
    this.liveRecordings.delete(rec.name);
    if (rec.channel.recording === rec) rec.channel.recording = undefined;
    if (rec.state === 'queued' || why === 'cancel') {
      rec.state = 'canceled';
      if (why === 'cancel') this.emit(rec.channel, 'RecordingFinished', { recording: this.recordingJson(rec) });
      return;
    }
    let totalMs = Math.min(this.recElapsed(rec), rec.maxDurationMs > 0 ? rec.maxDurationMs : Number.POSITIVE_INFINITY);
    if (why === 'silence') {
      // Asterisk trims the silence that ended the recording.
      const last = rec.speech.at(-1);
      totalMs = last ? Math.min(totalMs, last.atMs + last.pcm.length / 16) : 0;
    }
    const samples = Math.floor(totalMs * 8);
    const pcm = Buffer.alloc(samples * 2);
    for (const s of rec.speech) {
      const at = Math.floor(s.atMs * 8) * 2;
      if (at < pcm.length) s.pcm.copy(pcm, at, 0, Math.min(s.pcm.length, pcm.length - at));
    }
    const prior = rec.ifExists === 'append' ? this.storedRecordings.get(rec.name) : undefined;
    const priorPcm = prior ? decodeStored(prior) : Buffer.alloc(0);
    const all = Buffer.concat([priorPcm, pcm]);
    const durationMs = all.length / 16;
    this.storedRecordings.set(rec.name, {
      name: rec.name,
      format: rec.format,
      data: encodeStored(all, rec.format),
      durationMs,
    });
    rec.state = 'done';
    this.emit(rec.channel, 'RecordingFinished', {
      recording: this.recordingJson(rec, Math.floor(pcm.length / 16 / 1000)),
    });
  }

  getLiveRecording(name: string): Record<string, unknown> {
    const rec = this.liveRecordings.get(name);
    if (!rec) throw new AriHttpError(404, 'Recording not found');
    return this.recordingJson(rec);
  }

  stopRecording(name: string): void {
    const rec = this.liveRecordings.get(name);
    if (!rec) throw new AriHttpError(404, 'Recording not found');
    this.finishRecording(rec, 'done');
  }

  cancelRecording(name: string): void {
    const rec = this.liveRecordings.get(name);
    if (!rec) throw new AriHttpError(404, 'Recording not found');
    this.finishRecording(rec, 'cancel');
  }

  stored(name: string): StoredRecording {
    const r = this.storedRecordings.get(name);
    if (!r) throw new AriHttpError(404, 'Recording not found');
    return r;
  }

  deleteStored(name: string): void {
    if (!this.storedRecordings.delete(name)) throw new AriHttpError(404, 'Recording not found');
  }

  // ---- bridges ------------------------------------------------------------------
  // Bridge events reach the applications of the channels in it (a bridge made
  // over REST belongs to no application of its own).

  bridgeJson(b: SimBridge): Record<string, unknown> {
    return {
      id: b.id,
      technology: 'simple_bridge',
      bridge_type: b.type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: b.name,
      channels: [...b.channels],
      creationtime: b.creationtime,
    };
  }

  createBridge(p: { type?: string; bridgeId?: string; name?: string }): Record<string, unknown> {
    const id = p.bridgeId ?? randomUUID();
    if (this.bridges.has(id)) throw new AriHttpError(409, 'Bridge with the same bridgeId already exists');
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id)) throw new AriHttpError(400, 'Invalid bridgeId');
    const type = (p.type ?? 'mixing').split(',')[0] ?? 'mixing';
    const b: SimBridge = { id, name: p.name ?? '', type, channels: new Set(), creationtime: this.timestamp() };
    this.bridges.set(id, b);
    return this.bridgeJson(b);
  }

  bridge(id: string): SimBridge {
    const b = this.bridges.get(id);
    if (!b) throw new AriHttpError(404, 'Bridge not found');
    return b;
  }

  addToBridge(bridgeId: string, channelIds: string[]): void {
    const b = this.bridge(bridgeId);
    const chans = channelIds.map((id) => {
      const ch = this.channels.get(id);
      if (!ch || ch.dead) throw new AriHttpError(400, 'Channel not found');
      if (!ch.inStasis) throw new AriHttpError(422, 'Channel not in Stasis application');
      return ch;
    });
    for (const ch of chans) {
      if (ch.bridge === b) continue;
      if (ch.bridge) this.leaveBridge(ch);
      ch.bridge = b;
      b.channels.add(ch.id);
      this.emit(ch, 'ChannelEnteredBridge', { bridge: this.bridgeJson(b), channel: this.snapshot(ch) });
    }
  }

  removeFromBridge(bridgeId: string, channelIds: string[]): void {
    const b = this.bridge(bridgeId);
    const chans = channelIds.map((id) => {
      const ch = this.channels.get(id);
      if (!ch || ch.dead) throw new AriHttpError(400, 'Channel not found');
      if (ch.bridge !== b) throw new AriHttpError(422, 'Channel not in this bridge');
      return ch;
    });
    for (const ch of chans) this.leaveBridge(ch);
  }

  destroyBridge(bridgeId: string): void {
    const b = this.bridge(bridgeId);
    for (const id of [...b.channels]) {
      const ch = this.channels.get(id);
      if (ch) this.leaveBridge(ch);
    }
    this.bridges.delete(bridgeId);
  }

  /** The other channels in the same bridge (who hears whom). */
  bridgedWith(ch: SimChannel): SimChannel[] {
    const b = ch.bridge;
    if (!b) return [];
    return [...b.channels].filter((id) => id !== ch.id).flatMap((id) => this.channels.get(id) ?? []);
  }

  private leaveBridge(ch: SimChannel): void {
    const b = ch.bridge;
    if (!b) return;
    b.channels.delete(ch.id);
    ch.bridge = undefined;
    this.emit(ch, 'ChannelLeftBridge', { bridge: this.bridgeJson(b), channel: this.snapshot(ch) });
  }

  // ---- device states (AMI) ----------------------------------------------------

  setDeviceState(device: string, state: string): void {
    if (this.deviceStates.get(device) === state) return;
    this.deviceStates.set(device, state);
    for (const l of this.deviceListeners) l(device, state);
    for (const [app, subs] of this.subscriptions)
      if (subs.has(`deviceState:${device}`) && this.isRegistered(app))
        this.emitToApp(app, 'DeviceStateChanged', { device_state: { name: device, state } });
  }

  onDeviceState(listener: DeviceStateListener): () => void {
    this.deviceListeners.add(listener);
    return () => this.deviceListeners.delete(listener);
  }

  /** Stops every timer; channels vanish without events (the process "dies"). */
  close(): void {
    this.closed = true;
    for (const ch of this.channels.values()) {
      for (const t of ch.timers) this.opts.clock.clearTimeout(t);
      ch.timers.clear();
      if (!ch.dead) {
        ch.dead = true;
        ch.party?.ended_(0, 'Unknown', 'sim');
      }
    }
    for (const t of this.globalTimers) this.opts.clock.clearTimeout(t);
    this.globalTimers.clear();
    this.channels.clear();
  }
}

export function parseCallerId(s: string): CallerIdent {
  const m = /^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(s);
  if (m) return { name: (m[1] ?? m[2] ?? '').trim(), number: (m[3] ?? '').trim() };
  return { name: '', number: s.trim() };
}

function decodeStored(r: StoredRecording): Buffer {
  if (r.format === 'sln') return r.data;
  const info = parseWav(r.data);
  return (info && toSlin(r.data, info, 8000)) ?? Buffer.alloc(0);
}

/** The bytes Asterisk would write for a recording in `format`, from 8 kHz signed linear. */
function encodeStored(pcm8k: Buffer, format: string): Buffer {
  switch (format) {
    case 'sln':
      return pcm8k;
    case 'sln16':
      return upsample(pcm8k);
    case 'ulaw':
      return slinToUlaw(pcm8k);
    case 'wav16':
      return writeWav(upsample(pcm8k), 16000);
    default:
      return writeWav(pcm8k, 8000);
  }
}

function upsample(pcm8k: Buffer): Buffer {
  const out = Buffer.alloc(pcm8k.length * 2);
  for (let i = 0; i < pcm8k.length / 2; i++) {
    const s = pcm8k.readInt16LE(i * 2);
    out.writeInt16LE(s, i * 4);
    out.writeInt16LE(s, i * 4 + 2);
  }
  return out;
}
