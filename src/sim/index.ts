/**
 * The softswitch simulator: an ARI- and AMI-compatible stand-in for Asterisk
 * (see softswitch.ts for the rules it keeps), with virtual callers driven from
 * tests, from its small HTTP control API (/sim/...), or from `phonectl sim
 * start`. Every listener binds 127.0.0.1 unless told otherwise.
 */
import { randomBytes } from 'node:crypto';
import { type Clock, SystemClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { portError } from '../core/net.js';
import { HttpServer } from './http-server.js';
import { AmiServer } from './ami-server.js';
import { AriServer } from './ari-server.js';
import { mountControlApi } from './control-api.js';
import { mountDevPhone } from './dev-phone.js';
import { MediaResolver } from './media.js';
import { type CallAttempt, type CalleeBehavior, Softswitch, type StoredRecording } from './softswitch.js';
import type { VirtualCaller } from './virtual-caller.js';

export type { CallAttempt, CalleeBehavior } from './softswitch.js';
export type { CallEnd, PlaybackRecord, PressKeysOptions, VirtualCaller } from './virtual-caller.js';

export interface SimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  ariPort?: number;
  amiPort?: number;
  /** The control API's port; 0 picks one, null turns it off. Default 0. */
  controlPort?: number | null;
  /** The control API's bearer token; generated when not given. */
  controlToken?: string;
  /** ARI user and password; AMI uses the same unless given its own. */
  user: string;
  password: string;
  amiUser?: string;
  amiSecret?: string;
  /** The Stasis application inbound calls are handed to. Default 'phoneim'. */
  app?: string;
  /** Playback, recording and caller timing run this many times faster than real time. Default 1. */
  speedFactor?: number;
  soundsDir: string;
  log: Logger;
  clock?: Clock;
}

export interface PlaceCallOptions {
  /** The caller's number (caller ID), e.g. '+15550100101'. */
  from: string;
  /** The dialled extension, e.g. '100'. */
  to: string;
  /** Caller ID name. */
  name?: string;
  /** Stasis application; default the simulator's. */
  app?: string;
  /** Whether the dialplan answered before Stasis (as dialplan/extensions.conf does). Default true. */
  answered?: boolean;
  /** The caller's desk phone ('PJSIP/bob-desk'): in use (AMI) until the call ends. */
  device?: string;
  /** False: the dialplan sends the call elsewhere (another phone), not to the application. Default true. */
  toApp?: boolean;
}

/** A callee as a test scripts and watches it. */
export interface CalleeHandle {
  /** The next call this callee answers. */
  nextCall(timeoutMs?: number): Promise<VirtualCaller>;
  /** Every attempt to call it so far. */
  readonly attempts: CallAttempt[];
}

export class Simulator {
  readonly softswitch: Softswitch;
  readonly media: MediaResolver;
  readonly ari: AriServer;
  readonly ami: AmiServer;
  readonly user: string;
  readonly password: string;
  readonly amiUser: string;
  readonly amiSecret: string;
  readonly app: string;
  readonly host: string;
  ariPort = 0;
  amiPort = 0;
  controlPort: number | undefined;
  /**
   * What the control API wants as `authorization: Bearer <token>` (or `?token=`): only a developer who
   * was shown it drives the simulator, never a web page that guessed the port.
   */
  readonly controlToken: string;
  private readonly control: HttpServer | undefined;
  /** The words behind a media URI, when the platform knows them: the dev phone shows them. */
  captions: (uri: string) => string | null | undefined = () => undefined;
  /** Who a dev phone offers to call as (the demo users, when seeded). */
  readonly directory: { name: string; number: string }[] = [];
  /** Callers of live calls, by channel id. */
  readonly callers = new Map<string, VirtualCaller>();
  private readonly clock: Clock;

  constructor(private readonly opts: SimulatorOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.host = opts.host ?? '127.0.0.1';
    this.user = opts.user;
    this.password = opts.password;
    this.amiUser = opts.amiUser ?? opts.user;
    this.amiSecret = opts.amiSecret ?? opts.password;
    this.app = opts.app ?? 'phoneim';
    this.controlToken = opts.controlToken ?? randomBytes(24).toString('base64url');
    const log = opts.log;
    let sw: Softswitch | undefined;
    this.media = new MediaResolver({
      soundsDir: opts.soundsDir,
      clock: this.clock,
      log: log.child({ part: 'sim-media' }),
      recordingDurationMs: (name) => sw?.storedRecordings.get(name)?.durationMs,
    });
    sw = new Softswitch({
      speedFactor: opts.speedFactor ?? 1,
      clock: this.clock,
      log,
      media: this.media,
      defaultApp: this.app,
    });
    this.softswitch = sw;
    const track = (c: VirtualCaller) => {
      this.callers.set(c.channelId, c);
      void c.ended.then(() => this.callers.delete(c.channelId));
    };
    sw.onInboundCall(track);
    sw.onOutboundCall(track);
    this.ari = new AriServer(sw, {
      host: this.host,
      port: opts.ariPort ?? 0,
      user: this.user,
      password: this.password,
      soundsDir: opts.soundsDir,
      log,
    });
    this.ami = new AmiServer(sw, {
      host: this.host,
      port: opts.amiPort ?? 0,
      user: this.amiUser,
      secret: this.amiSecret,
      log,
    });
    if (opts.controlPort !== null) {
      this.control = new HttpServer({ host: this.host, port: opts.controlPort ?? 0, log });
      mountControlApi(this.control.router, this, this.controlToken);
      mountDevPhone(this.control.router, this, this.controlToken);
    }
  }

  async start(): Promise<this> {
    // A port that cannot be bound is reported by its config key (phonectl sim start's flags set the same keys).
    const named = (key: 'ariPort' | 'amiPort' | 'controlPort') => (e: unknown) => {
      throw portError(e, `sim.${key}`);
    };
    try {
      this.ariPort = await this.ari.listen().catch(named('ariPort'));
      this.amiPort = await this.ami.listen().catch(named('amiPort'));
      if (this.control) this.controlPort = await this.control.listen().catch(named('controlPort'));
    } catch (e) {
      await this.close();
      throw e;
    }
    this.opts.log.info(
      { ariUrl: this.ariUrl, amiPort: this.amiPort, controlUrl: this.controlUrl },
      'softswitch simulator listening',
    );
    return this;
  }

  get ariUrl(): string {
    return `http://${this.host}:${this.ariPort}`;
  }

  get controlUrl(): string | undefined {
    return this.controlPort === undefined ? undefined : `http://${this.host}:${this.controlPort}`;
  }

  /** The dev phone page, with the control token it needs (a developer tool on loopback). */
  get devPhoneUrl(): string | undefined {
    const base = this.controlUrl;
    return base === undefined ? undefined : `${base}/dev/phone?token=${encodeURIComponent(this.controlToken)}`;
  }

  /**
   * An inbound call: a virtual caller dials `to`. With no application
   * connected it hears the dialplan's ss-noservice and is hung up (cause 41),
   * as on Asterisk; with `app` named, it throws SIM_APP_NOT_REGISTERED instead.
   */
  placeCall(opts: PlaceCallOptions): VirtualCaller {
    return this.softswitch.placeCall(opts);
  }

  /**
   * How a number or endpoint behaves when the application calls it. The key
   * is the full endpoint ('PJSIP/+15550100101@trunk') or the number part
   * ('+15550100101', 'bob-desk', '100' of 'Local/100@ctx').
   */
  setCallee(numberOrEndpoint: string, behavior: CalleeBehavior): CalleeHandle {
    this.softswitch.setCallee(numberOrEndpoint, behavior);
    return this.callee(numberOrEndpoint);
  }

  /** What callees not set with setCallee do; by default they ring and nobody answers. */
  setDefaultCallee(behavior: CalleeBehavior): void {
    this.softswitch.setDefaultCallee(behavior);
  }

  callee(numberOrEndpoint: string): CalleeHandle {
    const sw = this.softswitch;
    const clock = this.clock;
    return {
      get attempts() {
        return sw.attempts.filter((a) => a.endpoint === numberOrEndpoint || a.callee === numberOrEndpoint);
      },
      nextCall(timeoutMs = 5000) {
        return new Promise((resolve, reject) => {
          const timer = clock.setTimeout(
            () =>
              reject(
                new AppError('SIM_TIMEOUT', `${numberOrEndpoint} answered no call within ${timeoutMs} ms`, {
                  callee: numberOrEndpoint,
                }),
              ),
            timeoutMs,
          );
          void sw.nextAnsweredCall(numberOrEndpoint).then((c) => {
            clock.clearTimeout(timer);
            resolve(c);
          });
        });
      },
    };
  }

  onOutboundCall(listener: (caller: VirtualCaller, attempt: CallAttempt) => void): () => void {
    return this.softswitch.onOutboundCall(listener);
  }

  onInboundCall(listener: (caller: VirtualCaller) => void): () => void {
    return this.softswitch.onInboundCall(listener);
  }

  /** A virtual phone's device state (AMI DeviceStateChange, and ExtensionStatus for its hints). */
  setDeviceState(device: string, state: string): void {
    this.softswitch.setDeviceState(device, state);
  }

  addHint(exten: string, context: string, device: string): void {
    this.ami.addHint(exten, context, device);
  }

  /** A stored recording (what GET /recordings/stored/{name}/file returns). */
  recording(name: string): StoredRecording | undefined {
    return this.softswitch.storedRecordings.get(name);
  }

  /** Cuts the events WebSockets, refusing new ones for `refuseMs` (a network drop). */
  dropWebSockets(refuseMs = 0): void {
    this.ari.dropWebSockets(refuseMs);
  }

  private closing: Promise<void> | undefined;

  /** Stops everything; calls vanish as if the machine went away. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.softswitch.close();
      await Promise.all([this.ari.close(), this.ami.close(), this.control?.close()]);
    })();
    return this.closing;
  }
}

/** Builds and starts a simulator. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  return new Simulator(opts).start();
}
