/**
 * Device state from AMI (asterisk-manager): a user's desk phone in use shows
 * as "on the phone". The manager connection logs in with events on, keeps
 * itself connected (our own reconnect on the library's schedule - 10 s,
 * growing by 10 s to 60 s - rather than asterisk-manager's keepConnected,
 * which writes to the console and cannot be cancelled), sends Ping as a
 * heartbeat, and on each login
 * asks for the current state of every device (DeviceStateList), so a
 * reconnect loses no change for good.
 *
 * DeviceStateChange events give a device's state; ExtensionStatus events
 * give a hint's, mapped to the hint's first device. A listener hears a device
 * only when its state changes. A heartbeat that goes unanswered replaces the
 * connection with a fresh one (a half-open TCP connection never closes).
 */
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeviceStateEvent, DeviceStateSource } from './port.js';

type State = DeviceStateEvent['state'];

/** asterisk-manager's reconnect schedule, kept: 10 s, then 10 s more each time, at most 60 s. */
const FIRST_RECONNECT_MS = 10_000;
const MAX_RECONNECT_MS = 60_000;

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
  /** Opens the connection again (a no-op while it is open); the callback runs once connected. */
  connect(port: number, host: string, callback?: () => void): void;
  /** Logs in with the credentials given at construction. */
  login(callback?: () => void): void;
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
  log: Logger;
  clock: Clock;
}

export class AmiDeviceStates implements DeviceStateSource {
  private manager: Manager | undefined;
  private readonly listeners = new Set<(e: DeviceStateEvent) => void>();
  private readonly states = new Map<string, State>();
  private pingTimer: TimerHandle | undefined;
  private awaitingPong = false;
  private closed = false;
  private loggedIn = false;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectDelayMs = FIRST_RECONNECT_MS;
  /** Logins so far (tests read it). */
  logins = 0;

  constructor(private readonly opts: AmiDeviceStatesOptions) {}

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

  /** The last state heard for each device. */
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
    if (m) await new Promise<void>((r) => m.disconnect(() => r()));
    if (m) retire(m);
  }

  private connect(): void {
    const { host, port, user, secret, log } = this.opts;
    if (!this.createManager) return;
    const m = this.createManager(port, host, user, secret, true);
    this.manager = m;
    this.loggedIn = false;
    m.on('connect', () => {
      this.reconnectDelayMs = FIRST_RECONNECT_MS;
    });
    m.on('close', () => {
      if (this.manager !== m || this.closed) return;
      this.loggedIn = false;
      const delayMs = this.reconnectDelayMs;
      this.reconnectDelayMs = Math.min(MAX_RECONNECT_MS, delayMs + FIRST_RECONNECT_MS);
      log.warn({ host, port, retryInMs: delayMs }, 'AMI connection closed; reconnecting');
      if (this.reconnectTimer) this.opts.clock.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = this.opts.clock.setTimeout(() => {
        this.reconnectTimer = undefined;
        if (this.manager === m && !this.closed) m.connect(port, host, () => m.login());
      }, delayMs);
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
        this.opts.log.info({ host: this.opts.host, port: this.opts.port }, 'AMI connected');
        m.action({ action: 'DeviceStateList' });
        return;
      case 'devicestatechange': {
        const state = String(e.state ?? '').toUpperCase() as State;
        if (typeof e.device === 'string') this.update(e.device, STATES.has(state) ? state : 'UNKNOWN');
        return;
      }
      case 'extensionstatus': {
        const hint = typeof e.hint === 'string' ? e.hint.split('&')[0] : undefined;
        if (hint) this.update(hint, EXTENSION_STATES[String(e.status)] ?? 'UNKNOWN');
        return;
      }
      default:
        return;
    }
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
        this.awaitingPong = false;
        m.disconnect();
        retire(m);
        this.connect();
      } else {
        this.awaitingPong = true;
        m.action({ action: 'Ping' }, () => {
          this.awaitingPong = false;
        });
      }
    }
    this.schedulePing();
  }
}

/**
 * Makes a manager we are done with harmless: a connection it still opens is
 * closed at once, and its errors go nowhere instead of crashing.
 */
function retire(m: Manager): void {
  m.removeAllListeners();
  m.on('error', () => {});
  m.on('connect', () => m.disconnect());
}
