/**
 * Device state from AMI (asterisk-manager): a user's desk phone in use shows
 * as "on the phone". The manager connection logs in with events on and sends
 * Ping as a heartbeat; on each login it asks for the current state of every
 * device (DeviceStateList) and every hint (ExtensionStateList), so a
 * reconnect loses no change for good.
 *
 * Rules:
 * - DeviceStateChange events give a device's state ('PJSIP/bob-desk');
 *   ExtensionStatus events give a hint's, named exten@context
 *   ('201@phoneim-hints'): the combined state of every device in the hint.
 * - A listener hears a device or hint only when its state changes. After a
 *   reconnect the lists are read afresh: what did not change is not heard
 *   again (no flap), what changed while we were away is heard once, and a
 *   device or hint the fresh list no longer names becomes UNKNOWN when the
 *   list is complete (never before: that would be a flap).
 * - The connection is ours to keep: a closed one is replaced after a backoff
 *   (reconnectInitialMs doubling to reconnectMaxMs), and a heartbeat that
 *   goes unanswered replaces it at once (a half-open TCP connection never
 *   closes). asterisk-manager's own reconnect (fixed 10 s steps, written to
 *   the console, never cancelled) is not used.
 */
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeviceStateEvent, DeviceStateSource } from './port.js';

type State = DeviceStateEvent['state'];

/** The part of asterisk-manager (untyped) this source uses. */
interface ManagerMessage {
  event?: string;
  response?: string;
  message?: string;
  [key: string]: unknown;
}

interface Manager {
  on(event: string, listener: (msg: ManagerMessage) => void): void;
  removeAllListeners(event?: string): void;
  action(action: Record<string, string>, callback?: (err: unknown, res: ManagerMessage) => void): string;
  disconnect(callback?: () => void): void;
  isConnected(): boolean;
}

/** Connects and logs in at once when given a port. */
type CreateManager = (port: number, host: string, username: string, secret: string, events: boolean) => Manager;

const STATES = new Set<State>([
  'NOT_INUSE',
  'INUSE',
  'BUSY',
  'INVALID',
  'UNAVAILABLE',
  'RINGING',
  'RINGINUSE',
  'ONHOLD',
  'UNKNOWN',
]);
/** ExtensionStatus Status codes (Asterisk's AST_EXTENSION_* bits). */
const EXTENSION_STATES: Record<string, State> = {
  '-2': 'INVALID',
  '-1': 'INVALID',
  '0': 'NOT_INUSE',
  '1': 'INUSE',
  '2': 'BUSY',
  '4': 'UNAVAILABLE',
  '8': 'RINGING',
  '9': 'RINGINUSE',
  '16': 'ONHOLD',
  '17': 'ONHOLD',
};

export interface AmiDeviceStatesOptions {
  host: string;
  port: number;
  user: string;
  secret: string;
  pingIntervalSeconds: number;
  /** Wait before the first reconnect, doubling up to reconnectMaxMs. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  log: Logger;
  clock: Clock;
}

export class AmiDeviceStates implements DeviceStateSource {
  private manager: Manager | undefined;
  private readonly listeners = new Set<(e: DeviceStateEvent) => void>();
  private readonly states = new Map<string, State>();
  /** Hints heard (exten@context), to tell them from devices when a list completes. */
  private readonly hints = new Set<string>();
  /** What the lists after the current login named so far, per list. */
  private listed: { devices: Set<string>; hints: Set<string> } | undefined;
  private pingTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private backoffMs: number;
  private awaitingPong = false;
  private closed = false;
  private loggedIn = false;
  /** Logins so far (tests read it). */
  logins = 0;

  constructor(private readonly opts: AmiDeviceStatesOptions) {
    this.backoffMs = opts.reconnectInitialMs;
  }

  /** Points the source at another manager port (the embedded simulator); before start() only. */
  setTarget(host: string, port: number): void {
    this.opts.host = host;
    this.opts.port = port;
  }

  async start(): Promise<void> {
    if (this.manager || this.closed) return;
    // Loaded here: the admin CLI builds this source and never starts it.
    this.createManager ??= createRequire(import.meta.url)('asterisk-manager') as CreateManager;
    await Promise.resolve();
    if (this.closed) return;
    this.connect();
    this.schedulePing();
  }

  private createManager: CreateManager | undefined;

  get isLoggedIn(): boolean {
    return this.loggedIn && (this.manager?.isConnected() ?? false);
  }

  /** Closes the manager connection; it is opened again after the backoff and the states read afresh (admin, tests). */
  reconnect(): void {
    this.manager?.disconnect();
  }

  /** The last state heard for each device and hint. */
  snapshot(): Map<string, State> {
    return new Map(this.states);
  }

  onDeviceState(listener: (e: DeviceStateEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
    if (this.reconnectTimer) this.opts.clock.clearTimeout(this.reconnectTimer);
    const m = this.manager;
    this.manager = undefined;
    if (!m) return;
    if (m.isConnected()) await new Promise<void>((r) => m.disconnect(() => r()));
    dispose(m);
  }

  private connect(): void {
    const { host, port, user, secret, log } = this.opts;
    if (!this.createManager || this.closed) return;
    const m = this.createManager(port, host, user, secret, true);
    this.manager = m;
    this.loggedIn = false;
    this.awaitingPong = false;
    m.on('close', () => {
      if (this.manager !== m || this.closed) return;
      this.loggedIn = false;
      retire(m);
      this.manager = undefined;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.reconnectMaxMs);
      log.warn({ host, port, retryInMs: wait }, 'AMI connection closed; reconnecting');
      this.reconnectTimer = this.opts.clock.setTimeout(() => {
        this.reconnectTimer = undefined;
        this.connect();
      }, wait);
    });
    m.on('response', (r) => {
      if (String(r.response).toLowerCase() === 'error' && /authentication/i.test(String(r.message)))
        log.error({ host, port, user }, 'AMI login refused: check telephony.ami.user and secret');
    });
    m.on('managerevent', (e) => {
      if (this.manager === m) this.onEvent(m, e);
    });
  }

  private onEvent(m: Manager, e: ManagerMessage): void {
    switch (String(e.event).toLowerCase()) {
      case 'fullybooted':
        this.loggedIn = true;
        this.logins++;
        this.backoffMs = this.opts.reconnectInitialMs;
        this.opts.log.info({ host: this.opts.host, port: this.opts.port }, 'AMI connected');
        this.listed = { devices: new Set(), hints: new Set() };
        m.action({ action: 'DeviceStateList' });
        m.action({ action: 'ExtensionStateList' });
        return;
      case 'devicestatechange': {
        const state = String(e.state ?? '').toUpperCase() as State;
        if (typeof e.device !== 'string') return;
        this.listed?.devices.add(e.device);
        this.update(e.device, STATES.has(state) ? state : 'UNKNOWN');
        return;
      }
      case 'extensionstatus': {
        if (typeof e.exten !== 'string' || typeof e.context !== 'string') return;
        const hint = `${e.exten}@${e.context}`;
        this.hints.add(hint);
        this.listed?.hints.add(hint);
        this.update(hint, EXTENSION_STATES[String(e.status)] ?? 'UNKNOWN');
        return;
      }
      case 'devicestatelistcomplete':
        this.forgetUnlisted('devices');
        return;
      case 'extensionstatelistcomplete':
        this.forgetUnlisted('hints');
        return;
      default:
        return;
    }
  }

  /** A fresh list is complete: what we knew and it did not name is no longer known. */
  private forgetUnlisted(kind: 'devices' | 'hints'): void {
    const listed = this.listed?.[kind];
    if (!listed) return;
    for (const name of [...this.states.keys()])
      if (this.hints.has(name) === (kind === 'hints') && !listed.has(name)) this.update(name, 'UNKNOWN');
  }

  private update(device: string, state: State): void {
    if (this.states.get(device) === state) return;
    this.states.set(device, state);
    for (const l of [...this.listeners]) {
      try {
        l({ device, state });
      } catch (err) {
        this.opts.log.error({ err }, 'device state listener failed');
      }
    }
  }

  private schedulePing(): void {
    this.pingTimer = this.opts.clock.setTimeout(() => this.ping(), this.opts.pingIntervalSeconds * 1000);
  }

  private ping(): void {
    if (this.closed) return;
    const m = this.manager;
    if (m && this.isLoggedIn) {
      if (this.awaitingPong) {
        this.opts.log.warn('AMI did not answer Ping; opening a new connection');
        dispose(m);
        this.connect();
      } else {
        this.awaitingPong = true;
        m.action({ action: 'Ping' }, () => {
          if (this.manager === m) this.awaitingPong = false;
        });
      }
    }
    this.schedulePing();
  }
}

/** Makes a manager we are done with harmless: its late events and errors go nowhere. */
function retire(m: Manager): void {
  m.removeAllListeners();
  m.on('error', () => {});
  m.on('connect', () => m.disconnect());
}

/**
 * Retires a manager and ends its connection. One still connecting is left to
 * connect first: asterisk-manager sends its login from the socket's connect,
 * and a connection taken from under it makes it print an error to stdout.
 */
function dispose(m: Manager): void {
  retire(m);
  if (m.isConnected()) m.disconnect();
  else setTimeout(() => m.disconnect(), 2000).unref();
}
