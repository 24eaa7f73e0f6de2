/**
 * The call-control port over ARI: REST through ari-client, events through
 * our own WebSocket to /ari/events.
 *
 * Why not ari-client's start(): its WebSocket gives up after 10 reconnect
 * tries, and a reconnect it has scheduled cannot be cancelled - a "stopped"
 * client comes back and, on Asterisk, takes the application over from its
 * successor. Its per-instance event listeners also pile up. So this adapter
 * keeps one connection state machine of its own:
 *
 *   connecting --(API loaded, WebSocket open)--> connected --(drop)--> connecting
 *
 * - Connecting loads the API (ari.connect) and opens the WebSocket; each
 *   failure waits a backoff (reconnectInitialMs doubling to reconnectMaxMs,
 *   with jitter) and tries again, for ever, saying so in the log.
 * - Each (re)connection builds a fresh ari-client Client and drops the old
 *   one; no listener is ever added to a Client, so none can leak.
 * - After each connection it resynchronises: calls it holds that are no
 *   longer in the application end (the caller hung up meanwhile); channels in
 *   the application that it does not hold are picked up as new calls when
 *   they arrived while it was disconnected, and hung up otherwise (left over
 *   from an earlier process); playbacks and recordings that ended unseen are
 *   settled.
 * - Events are dispatched by channel, playback and recording id; events for
 *   channels it does not hold (the ;2 half of a Local channel) are ignored.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  AriCall,
  type AriClient,
  type AriRest,
  CAUSE_TEXT,
  type CallHost,
  GONE,
  type PendingPlayback,
  type PendingRecording,
  type RequestLane,
} from './ari-call.js';
import type { Bridge, BridgeControl, Call, CallControl, OriginateOptions, OriginateResult } from './port.js';

export interface AriCallControlOptions {
  /** e.g. http://127.0.0.1:8088 */
  url: string;
  user: string;
  password: string;
  app: string;
  log: Logger;
  clock: Clock;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** WebSocket ping period; a pong missing for a period drops the connection. */
  pingIntervalMs?: number;
  /** How long loading the API may take before the attempt counts as failed. */
  connectTimeoutMs?: number;
  /** How long one REST request may take (ari-client never settles a request whose connection is refused). */
  requestTimeoutMs?: number;
  /**
   * REST requests in flight at once; more wait their turn. ari-client opens a
   * connection per concurrent request (Node's keep-alive agent reuses idle
   * ones), and a burst of hundreds overflows the server's listen backlog
   * (dropped SYNs cost seconds of retransmission) and Asterisk's HTTP session
   * limit. Requests a caller waits on (answer, play, stop, hang up) go before
   * background ones (resync, watchdogs, recordings, bridges), which may hold
   * at most a quarter of the slots.
   */
  maxConcurrentRequests?: number;
  /**
   * A playback whose PlaybackFinished never comes ends as failed after this long, and the flow goes on
   * (an event lost without a reconnect would hold the call for ever). Default 300 s.
   */
  playbackWatchdogMs?: number;
  /** A recording ends as failed this long after its maximum duration (or the playback watchdog when it has none). Default 30 s. */
  recordingWatchdogMarginMs?: number;
}

interface PendingOriginate {
  options: OriginateOptions;
  dialstatus: string;
  timer: TimerHandle;
  settle(r: OriginateResult): void;
}

type AriEventJson = {
  type: string;
  channel?: { id: string; caller?: { number?: string; name?: string }; dialplan?: { exten?: string }; state?: string };
  peer?: { id: string };
  playback?: { id: string; state: string };
  recording?: { name: string; state: string; duration?: number; target_uri?: string };
  args?: string[];
  digit?: string;
  duration_ms?: number;
  cause?: number;
  cause_txt?: string;
  soft?: boolean;
  dialstatus?: string;
};

type Connect = (url: string, user: string, password: string) => Promise<AriClient>;

/** ari-client and ws load on first connect: the admin CLI builds this adapter and never connects. */
function loadAri(): Connect {
  const ari = createRequire(import.meta.url)('ari-client') as { connect: Connect };
  // swagger-client 2.0 (inside ari-client) logs through a global `log` function that prints to
  // stdout and keeps every message for ever; nothing it says there is of use.
  const globals = globalThis as { log?: unknown };
  if (typeof globals.log === 'function' && String(globals.log).includes('log.history')) globals.log = () => {};
  return ari.connect;
}

const OPEN = 1;

const GONE_MESSAGES =
  /Channel not found|not in (a )?Stasis application|Playback not found|Recording not found|Bridge not found|not in this bridge/i;
const BRIDGE_NAME = /^[A-Za-z0-9_.-]{0,64}$/;
const ENDPOINT = /^(PJSIP|SIP|Local|IAX2|DAHDI)\/[^\s,]{1,200}$/;

export class AriCallControl implements CallControl, BridgeControl, CallHost {
  readonly log: Logger;
  private client: AriClient | undefined;
  private ws: WebSocket | undefined;
  private readonly calls = new Map<string, AriCall>();
  private readonly originates = new Map<string, PendingOriginate>();
  private readonly playbacks = new Map<string, PendingPlayback>();
  private readonly recordings = new Map<string, PendingRecording>();
  private readonly callListeners = new Set<(call: Call) => void>();
  private closed = false;
  private running: Promise<void> | undefined;
  private sleeping: { timer: TimerHandle; wake: () => void } | undefined;
  private pingTimer: TimerHandle | undefined;
  private connectedOnce: { promise: Promise<void>; resolve: () => void };
  /** When the last connection dropped (channels newer than this arrived while we were away). */
  private disconnectedAt: number | undefined;
  /** Connections made so far (1 = first); tests read it to see a reconnect. */
  connections = 0;

  constructor(private readonly opts: AriCallControlOptions) {
    this.log = opts.log;
    let resolve!: () => void;
    this.connectedOnce = { promise: new Promise((r) => (resolve = r)), resolve };
  }

  get isConnected(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /** Points the adapter at another Asterisk (the embedded simulator); before start() only. */
  setUrl(url: string): void {
    if (this.running) throw new Error('setUrl after start');
    this.opts.url = url;
  }

  /** Starts connecting (and reconnecting, for ever) in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /** Settles once the first connection is up. */
  ready(): Promise<void> {
    return this.connectedOnce.promise;
  }

  /** Drops the events WebSocket; the adapter reconnects and resynchronises (admin, tests). */
  reconnect(): void {
    this.ws?.terminate();
  }

  /** How many calls, playbacks, recordings and originates it holds (tests prove nothing leaks). */
  get held(): { calls: number; playbacks: number; recordings: number; originates: number } {
    return {
      calls: this.calls.size,
      playbacks: this.playbacks.size,
      recordings: this.recordings.size,
      originates: this.originates.size,
    };
  }

  /** The current ari-client Client (tests inspect its listeners). */
  get ariClient(): AriClient | undefined {
    return this.client;
  }

  onCall(listener: (call: Call) => void): () => void {
    this.callListeners.add(listener);
    return () => {
      this.callListeners.delete(listener);
    };
  }

  async originate(options: OriginateOptions): Promise<OriginateResult> {
    if (!ENDPOINT.test(options.endpoint))
      throw new AppError('TELEPHONY_INVALID_INPUT', 'endpoint must look like PJSIP/... or Local/...', {
        endpoint: options.endpoint.slice(0, 200),
      });
    if (this.closed) throw new AppError('TELEPHONY_CLOSED', 'call control is closed');
    const channelId = randomUUID();
    const timeoutSeconds = options.timeoutSeconds ?? 30;
    const result = new Promise<OriginateResult>((resolve) => {
      const timer = this.opts.clock.setTimeout(
        () => {
          // Asterisk should have ended it by now; make sure it is gone.
          this.request('cancel originate', (c) => c.channels.hangup({ channelId })).catch(() => GONE);
          this.settleOriginate(channelId, { status: 'no-answer', cause: 19, causeText: CAUSE_TEXT[19] as string });
        },
        (timeoutSeconds + 15) * 1000,
      );
      this.originates.set(channelId, { options, dialstatus: '', timer, settle: resolve });
    });
    try {
      await this.request('originate', (c) =>
        c.channels.originate({
          endpoint: options.endpoint,
          app: this.opts.app,
          appArgs: (options.appArgs ?? []).join(','),
          callerId: options.callerId,
          timeout: timeoutSeconds,
          channelId,
          ...(options.endpoint.startsWith('Local/') ? { otherChannelId: `${channelId}-2` } : {}),
          variables: options.variables ?? {},
        }),
      );
    } catch (e) {
      const message = e instanceof AppError ? e.message : String(e);
      this.log.warn({ endpoint: options.endpoint, err: message }, 'originate refused');
      this.settleOriginate(channelId, { status: 'failed', cause: 0, causeText: message });
    }
    return result;
  }

  async createBridge(name = ''): Promise<Bridge> {
    if (!BRIDGE_NAME.test(name))
      throw new AppError('TELEPHONY_INVALID_INPUT', 'a bridge name is up to 64 letters, digits, _ . -', { name });
    const bridgeId = randomUUID();
    await this.request('create bridge', (c) => c.bridges.create({ type: 'mixing', bridgeId, name: name || undefined }));
    const member = (call: Call) => call.id;
    return {
      id: bridgeId,
      add: async (call) => {
        if (!call.isAlive) return;
        await this.request('add to bridge', (c) => c.bridges.addChannel({ bridgeId, channel: member(call) }));
      },
      remove: async (call) => {
        if (!call.isAlive) return;
        await this.request('remove from bridge', (c) => c.bridges.removeChannel({ bridgeId, channel: member(call) }));
      },
      destroy: async () => {
        await this.request('destroy bridge', (c) => c.bridges.destroy({ bridgeId }));
      },
    };
  }

  async fetchRecording(name: string): Promise<Buffer> {
    const r = await this.request('fetch recording', (c) => c.recordings.getStoredFile({ recordingName: name }));
    if (r === GONE) throw new AppError('TELEPHONY_RECORDING_NOT_FOUND', `no stored recording ${name}`, { name });
    return r;
  }

  async deleteRecording(name: string): Promise<void> {
    await this.request('delete recording', (c) => c.recordings.deleteStored({ recordingName: name }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sleeping) {
      this.opts.clock.clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    // Hang up what is still live (best effort): a caller must not be left in silence.
    await Promise.allSettled(
      [...this.calls.values()].map((c) => Promise.race([c.hangup(), new Promise((r) => setTimeout(r, 1000).unref())])),
    );
    for (const c of [...this.calls.values()]) c.end(16, 'Normal Clearing');
    for (const id of [...this.originates.keys()])
      this.settleOriginate(id, { status: 'failed', cause: 0, causeText: 'call control closed' });
    this.stopPing();
    this.ws?.terminate();
    await this.running;
  }

  // ---- CallHost ------------------------------------------------------------------

  async request<T>(
    what: string,
    fn: (client: AriRest) => Promise<T>,
    lane: RequestLane = 'background',
  ): Promise<T | typeof GONE> {
    if (!this.client) throw new AppError('TELEPHONY_NOT_CONNECTED', `cannot ${what}: Asterisk is not connected`);
    if (!this.hasSlot(lane)) await new Promise<void>((r) => this.waiting[lane].push(r));
    this.inFlight++;
    if (lane === 'background') this.inFlightBackground++;
    try {
      return await this.send(what, fn);
    } finally {
      this.inFlight--;
      if (lane === 'background') this.inFlightBackground--;
      this.admitWaiting();
    }
  }

  private inFlight = 0;
  private inFlightBackground = 0;
  private readonly waiting: Record<RequestLane, (() => void)[]> = { call: [], background: [] };

  private get maxInFlight(): number {
    return this.opts.maxConcurrentRequests ?? 64;
  }

  private hasSlot(lane: RequestLane): boolean {
    if (this.inFlight >= this.maxInFlight) return false;
    if (lane === 'call') return true;
    return this.waiting.call.length === 0 && this.inFlightBackground < Math.max(1, Math.floor(this.maxInFlight / 4));
  }

  /** A slot came free: a waiting call request first, else a background one if background may take it. */
  private admitWaiting(): void {
    if (this.inFlight >= this.maxInFlight) return;
    const next =
      this.waiting.call.shift() ?? (this.hasSlot('background') ? this.waiting.background.shift() : undefined);
    next?.();
  }

  /**
   * One timer for every request's deadline (they all get the same timeout, so they expire in the order they
   * were sent): a timer per request costs a timer-list insert and removal on every play at a key.
   */
  private readonly deadlines = new Set<{ at: number; expire: () => void }>();
  private deadlineTimer: TimerHandle | undefined;

  private armDeadlines(): void {
    if (this.deadlineTimer || this.deadlines.size === 0) return;
    const first = this.deadlines.values().next().value as { at: number };
    this.deadlineTimer = this.opts.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        const now = this.opts.clock.now();
        for (const d of this.deadlines) {
          if (d.at > now) break;
          this.deadlines.delete(d);
          d.expire();
        }
        this.armDeadlines();
      },
      Math.max(0, first.at - this.opts.clock.now()),
    );
  }

  private async send<T>(what: string, fn: (client: AriRest) => Promise<T>): Promise<T | typeof GONE> {
    const client = this.client;
    if (!client) throw new AppError('TELEPHONY_NOT_CONNECTED', `cannot ${what}: Asterisk is not connected`);
    const timeoutMs = this.opts.requestTimeoutMs ?? 10_000;
    let deadline: { at: number; expire: () => void } | undefined;
    try {
      return await Promise.race([
        fn(client),
        new Promise<never>((_r, reject) => {
          deadline = {
            at: this.opts.clock.now() + timeoutMs,
            expire: () => reject(new Error(`no answer within ${timeoutMs} ms`)),
          };
          this.deadlines.add(deadline);
          this.armDeadlines();
        }),
      ]);
    } catch (e) {
      const message = ariMessage(e);
      if (GONE_MESSAGES.test(message)) return GONE;
      throw new AppError('TELEPHONY_REQUEST_FAILED', `${what} failed: ${message}`, { what });
    } finally {
      if (deadline) this.deadlines.delete(deadline);
      // Nothing left to time: no timer may hold the process open.
      if (this.deadlines.size === 0 && this.deadlineTimer) {
        this.opts.clock.clearTimeout(this.deadlineTimer);
        this.deadlineTimer = undefined;
      }
    }
  }

  private readonly watchdogs = new Map<string, TimerHandle>();

  private watch(key: string, ms: number, fire: () => void): void {
    this.unwatch(key);
    this.watchdogs.set(
      key,
      this.opts.clock.setTimeout(() => {
        this.watchdogs.delete(key);
        fire();
      }, ms),
    );
  }

  private unwatch(key: string): void {
    const t = this.watchdogs.get(key);
    if (t) this.opts.clock.clearTimeout(t);
    this.watchdogs.delete(key);
  }

  trackPlayback(p: PendingPlayback): void {
    this.playbacks.set(p.id, p);
    const ms = this.opts.playbackWatchdogMs ?? 300_000;
    this.watch(`p:${p.id}`, ms, () => {
      if (this.playbacks.get(p.id) !== p) return;
      this.opts.log.warn(
        { callId: p.call.id, playbackId: p.id, afterMs: ms },
        'playback never finished: ended as failed',
      );
      void this.request('stop playback', (c) => c.playbacks.stop({ playbackId: p.id })).catch(() => {});
      p.settle('failed');
    });
  }

  untrackPlayback(id: string): void {
    this.playbacks.delete(id);
    this.unwatch(`p:${id}`);
  }

  trackRecording(r: PendingRecording): void {
    this.recordings.set(r.name, r);
    const ms =
      r.maxDurationSeconds > 0
        ? r.maxDurationSeconds * 1000 + (this.opts.recordingWatchdogMarginMs ?? 30_000)
        : (this.opts.playbackWatchdogMs ?? 300_000);
    this.watch(`r:${r.name}`, ms, () => {
      if (this.recordings.get(r.name) !== r) return;
      this.opts.log.warn(
        { callId: r.call.id, recording: r.name, afterMs: ms },
        'recording never finished: ended as failed',
      );
      void this.request('stop recording', (c) => c.recordings.stop({ recordingName: r.name })).catch(() => {});
      r.settle({ name: r.name, outcome: 'failed', durationSeconds: 0, format: r.format });
    });
  }

  untrackRecording(name: string): void {
    this.recordings.delete(name);
    this.unwatch(`r:${name}`);
  }

  callEnded(call: AriCall): void {
    this.calls.delete(call.id);
    for (const p of [...this.playbacks.values()]) if (p.call === call) p.settle('hangup');
    for (const r of [...this.recordings.values()])
      if (r.call === call) r.settle({ name: r.name, outcome: 'hangup', durationSeconds: 0, format: r.format });
  }

  // ---- connection ------------------------------------------------------------------

  private async run(): Promise<void> {
    let delay = this.opts.reconnectInitialMs;
    let failures = 0;
    while (!this.closed) {
      try {
        const client = await this.loadApi();
        if (this.closed) break;
        // Before the events: a call Asterisk hands over the instant the application registers
        // arrives with the WebSocket's first bytes, and is answered over this client.
        this.client = client;
        const ws = await this.openEvents();
        if (this.closed) {
          ws.terminate();
          break;
        }
        this.connections++;
        const dropped = new Promise<void>((r) => ws.once('close', () => r()));
        this.startPing(ws);
        this.log.info({ url: this.opts.url, app: this.opts.app, after: failures }, 'ARI connected');
        failures = 0;
        delay = this.opts.reconnectInitialMs;
        this.connectedOnce.resolve();
        // Resync runs beside the connection: a request that hangs must not hold up the next reconnect.
        const generation = this.connections;
        void this.resync(generation).catch((e) =>
          this.log.warn({ err: (e as Error).message }, 'resync after connect failed'),
        );
        await dropped;
        this.stopPing();
        this.disconnectedAt = this.opts.clock.now();
        if (this.closed) break;
        this.log.warn({ app: this.opts.app }, 'ARI events WebSocket dropped; reconnecting');
      } catch (e) {
        failures++;
        const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
        this.log.warn(
          { url: this.opts.url, attempt: failures, retryInMs: wait, err: (e as Error).message },
          'Asterisk ARI not reachable; retrying',
        );
        await this.sleep(wait);
        delay = Math.min(delay * 2, this.opts.reconnectMaxMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: this.opts.clock.setTimeout(wake, ms), wake };
    });
  }

  private async loadApi(): Promise<AriClient> {
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    let timer: TimerHandle | undefined;
    try {
      const connect = loadAri();
      return await Promise.race([
        connect(this.opts.url, this.opts.user, this.opts.password),
        new Promise<never>((_r, reject) => {
          timer = this.opts.clock.setTimeout(() => reject(new Error('loading the ARI API timed out')), timeoutMs);
        }),
      ]);
    } catch (e) {
      throw new Error(ariMessage(e));
    } finally {
      if (timer) this.opts.clock.clearTimeout(timer);
    }
  }

  private async openEvents(): Promise<WebSocket> {
    const { WebSocket } = await import('ws');
    const u = new URL(this.opts.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `${u.pathname.replace(/\/$/, '')}/ari/events`;
    u.search = new URLSearchParams({
      app: this.opts.app,
      api_key: `${this.opts.user}:${this.opts.password}`,
    }).toString();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(u, { handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000 });
      const fail = (e: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new Error(`events WebSocket: ${e.message}`));
      };
      ws.once('error', fail);
      ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
      ws.once('open', () => {
        ws.off('error', fail);
        ws.on('error', (e) => this.log.warn({ err: e.message }, 'ARI WebSocket error'));
        ws.on('message', (data) => this.onMessage(data.toString()));
        this.ws = ws;
        resolve(ws);
      });
    });
  }

  private startPing(ws: WebSocket): void {
    const every = this.opts.pingIntervalMs ?? 20_000;
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const tick = () => {
      if (ws.readyState !== OPEN) return;
      if (!alive) {
        this.log.warn('ARI WebSocket stopped answering pings');
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
      this.pingTimer = this.opts.clock.setTimeout(tick, every);
    };
    this.pingTimer = this.opts.clock.setTimeout(tick, every);
  }

  private stopPing(): void {
    if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  // ---- events ----------------------------------------------------------------------

  private onMessage(text: string): void {
    let e: AriEventJson;
    try {
      e = JSON.parse(text) as AriEventJson;
    } catch {
      this.log.warn('ARI sent an event that is not JSON');
      return;
    }
    try {
      this.dispatch(e);
    } catch (err) {
      this.log.error({ err, type: e.type }, 'ARI event handling failed');
    }
  }

  private dispatch(e: AriEventJson): void {
    const chId = e.channel?.id;
    switch (e.type) {
      case 'StasisStart':
        if (chId && e.channel) this.stasisStart(chId, e.channel, e.args ?? []);
        return;
      case 'ChannelDtmfReceived':
        if (chId) this.calls.get(chId)?.dtmf(e.digit ?? '', e.duration_ms ?? 0);
        return;
      case 'ChannelHangupRequest':
        if (chId) this.calls.get(chId)?.hangupRequested(e.cause, e.soft);
        return;
      case 'StasisEnd':
        if (chId) this.calls.get(chId)?.end(undefined, undefined);
        return;
      case 'ChannelDestroyed':
        if (!chId) return;
        this.calls.get(chId)?.end(e.cause, e.cause_txt);
        if (this.originates.has(chId)) this.originateEnded(chId, e.cause ?? 0, e.cause_txt ?? 'Unknown');
        return;
      case 'Dial': {
        const pending = e.peer ? this.originates.get(e.peer.id) : undefined;
        if (pending && e.dialstatus) pending.dialstatus = e.dialstatus;
        return;
      }
      case 'PlaybackFinished': {
        const p = e.playback ? this.playbacks.get(e.playback.id) : undefined;
        if (p) p.settle(e.playback?.state === 'failed' ? 'failed' : p.stopRequested ? 'stopped' : 'finished');
        return;
      }
      case 'RecordingFinished':
      case 'RecordingFailed': {
        const rec = e.recording;
        const r = rec ? this.recordings.get(rec.name) : undefined;
        if (!r || !rec || rec.target_uri !== `channel:${r.call.id}`) return;
        const failed = e.type === 'RecordingFailed' || rec.state === 'failed' || rec.state === 'canceled';
        r.settle({
          name: rec.name,
          outcome: failed ? 'failed' : 'done',
          durationSeconds: rec.duration ?? 0,
          format: r.format,
        });
        return;
      }
      case 'ApplicationReplaced':
        this.log.error({ app: this.opts.app }, 'another ARI client took over the application; events stop here');
        return;
      default:
        return;
    }
  }

  private stasisStart(id: string, channel: NonNullable<AriEventJson['channel']>, args: string[]): void {
    if (this.calls.has(id)) return;
    const pending = this.originates.get(id);
    if (pending) {
      const call = new AriCall(
        {
          id,
          direction: 'outbound',
          callerNumber: channel.caller?.number ?? '',
          callerName: channel.caller?.name ?? '',
          dialed: pending.options.endpoint,
          args,
          variables: pending.options.variables ?? {},
        },
        this,
      );
      this.calls.set(id, call);
      this.settleOriginate(id, { status: 'answered', call });
      return;
    }
    const call = new AriCall(
      {
        id,
        direction: 'inbound',
        callerNumber: channel.caller?.number ?? '',
        callerName: channel.caller?.name ?? '',
        dialed: channel.dialplan?.exten ?? '',
        args,
        variables: {},
      },
      this,
    );
    this.calls.set(id, call);
    if (this.callListeners.size === 0) this.log.warn({ callId: id }, 'a call came in and nothing takes calls');
    for (const l of [...this.callListeners]) {
      try {
        l(call);
      } catch (e) {
        this.log.error({ err: e, callId: id }, 'call listener failed');
      }
    }
  }

  private originateEnded(id: string, cause: number, causeText: string): void {
    const p = this.originates.get(id);
    if (!p) return;
    const ds = p.dialstatus;
    let status: Exclude<OriginateResult['status'], 'answered'>;
    if (ds === 'BUSY' || cause === 17) status = 'busy';
    else if (ds === 'NOANSWER' || cause === 19 || cause === 18) status = 'no-answer';
    else if (ds === 'CONGESTION' || cause === 34 || cause === 38 || cause === 42) status = 'congestion';
    else status = 'failed';
    const c = status === 'busy' && cause !== 17 ? 17 : cause;
    this.settleOriginate(id, {
      status,
      cause: c,
      causeText: status === 'busy' ? (CAUSE_TEXT[17] as string) : causeText,
    });
  }

  private settleOriginate(id: string, r: OriginateResult): void {
    const p = this.originates.get(id);
    if (!p) return;
    this.originates.delete(id);
    this.opts.clock.clearTimeout(p.timer);
    p.settle(r);
  }

  /** After a (re)connection: reconcile what we hold with what Asterisk has. */
  private async resync(generation: number): Promise<void> {
    // Only what we held before asking can be judged by the answer: a call that
    // starts while the request is in flight is live even if the list misses it.
    const heldBefore = [...this.calls.values()];
    const connectedAt = this.opts.clock.now();
    const app = await this.request('list application', (c) => c.applications.get({ applicationName: this.opts.app }));
    if (generation !== this.connections || this.closed) return;
    const inApp = new Set(app === GONE ? [] : app.channel_ids);
    for (const call of heldBefore) {
      if (call.isAlive && !inApp.has(call.id)) {
        this.log.info({ callId: call.id }, 'call ended while disconnected');
        call.end(16, 'Normal Clearing');
      }
    }
    for (const p of [...this.playbacks.values()]) {
      const r = await this.request('get playback', (c) => c.playbacks.get({ playbackId: p.id })).catch(gone);
      if (r === GONE) p.settle(p.stopRequested ? 'stopped' : 'finished');
    }
    for (const r of [...this.recordings.values()]) {
      const live = await this.request('get recording', (c) => c.recordings.getLive({ recordingName: r.name })).catch(
        gone,
      );
      if (live !== GONE) continue;
      const stored = await this.request('get stored', (c) => c.recordings.getStored({ recordingName: r.name })).catch(
        gone,
      );
      r.settle({ name: r.name, outcome: stored === GONE ? 'failed' : 'done', durationSeconds: 0, format: r.format });
    }
    for (const id of inApp) {
      if (this.calls.has(id)) continue;
      const ch = await this.request('get channel', (c) => c.channels.get({ channelId: id })).catch(gone);
      if (ch === GONE || this.calls.has(id)) continue;
      if (this.originates.has(id)) {
        if (ch.state === 'Up') this.stasisStart(id, ch, []);
        continue;
      }
      const created = Date.parse(ch.creationtime);
      // Arrived after this connection opened: its StasisStart is on its way to us.
      if (created >= connectedAt - 1000) continue;
      if (this.disconnectedAt !== undefined && created >= this.disconnectedAt - 2000) {
        this.log.info({ callId: id }, 'picking up a call that arrived while disconnected');
        this.stasisStart(id, ch, ch.dialplan?.app_data?.split(',').slice(1) ?? []);
      } else {
        this.log.info({ callId: id }, 'hanging up a call left over from an earlier connection');
        await this.request('hang up leftover', (c) => c.channels.hangup({ channelId: id })).catch(gone);
      }
    }
    for (const id of [...this.originates.keys()]) {
      if (inApp.has(id)) continue;
      const ch = await this.request('get channel', (c) => c.channels.get({ channelId: id })).catch(gone);
      if (ch === GONE) this.settleOriginate(id, { status: 'failed', cause: 0, causeText: 'lost while disconnected' });
    }
  }
}

const gone = (): typeof GONE => GONE;

/** The text of an ARI error: ari-client rejects with the response body as the message. */
function ariMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  try {
    const body = JSON.parse(raw) as { message?: string; error?: string };
    return body.message ?? body.error ?? raw;
  } catch {
    return raw;
  }
}
