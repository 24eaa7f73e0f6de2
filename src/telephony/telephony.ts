/**
 * The telephony capability as the platform builds it: the ARI call control
 * and the AMI device-state source, pointed at the configured Asterisk - or,
 * when no ARI URL is configured, at a softswitch simulator started in-process
 * (what `make run` does on a machine without Asterisk).
 */
import { resolve } from 'node:path';
import { type Clock, SystemClock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Simulator } from '../sim/index.js';
import { AmiDeviceStates } from './ami-device-states.js';
import { AriCallControl } from './ari-call-control.js';

export class Telephony {
  readonly callControl: AriCallControl;
  readonly deviceStates: AmiDeviceStates;
  /** The embedded simulator, once started (only when no ARI URL is configured). */
  sim: Simulator | undefined;
  private readonly embedded: boolean;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    const t = config.telephony;
    this.embedded = t.ari.url === undefined;
    this.callControl = new AriCallControl({
      url: t.ari.url ?? 'http://127.0.0.1:0',
      user: t.ari.user,
      password: t.ari.password,
      app: t.ari.app,
      log: log.child({ part: 'ari' }),
      // The wall clock, whatever clock the platform runs on: its timers guard a network connection (connect and
      // request deadlines, reconnect waits, pings, media watchdogs). On a test's manual clock a first connect that
      // stalled never timed out, and the platform never started.
      clock: new SystemClock(),
      reconnectInitialMs: t.reconnectInitialMs,
      reconnectMaxMs: t.reconnectMaxMs,
      playbackWatchdogMs: t.playbackWatchdogSeconds * 1000,
      recordingWatchdogMarginMs: t.recordingWatchdogMarginSeconds * 1000,
    });
    this.deviceStates = new AmiDeviceStates({
      host: t.ami.host ?? '127.0.0.1',
      port: t.ami.port,
      user: t.ami.user,
      secret: t.ami.secret,
      pingIntervalSeconds: t.ami.pingIntervalSeconds,
      reconnectInitialMs: t.reconnectInitialMs,
      reconnectMaxMs: t.reconnectMaxMs,
      log: log.child({ part: 'ami' }),
      clock,
    });
  }

  /**
   * Starts the simulator (when embedded) and device states; call control
   * waits for startCalls(), so no call is taken before the platform is ready.
   */
  async start(): Promise<void> {
    const t = this.config.telephony;
    if (this.embedded) {
      const s = this.config.sim;
      // Loaded only when used: a deployment with Asterisk never loads the simulator.
      const { startSimulator } = await import('../sim/index.js');
      this.sim = await startSimulator({
        host: s.host,
        ariPort: s.ariPort,
        amiPort: s.amiPort,
        controlPort: s.controlPort,
        controlToken: s.controlToken,
        user: t.ari.user,
        password: t.ari.password,
        amiUser: t.ami.user,
        amiSecret: t.ami.secret,
        app: t.ari.app,
        speedFactor: s.speedFactor,
        soundsDir: resolve(s.soundsDir),
        log: this.log.child({ part: 'sim' }),
        clock: this.clock,
      });
      this.callControl.setUrl(this.sim.ariUrl);
      this.deviceStates.setTarget(this.sim.host, this.sim.amiPort);
    }
    if (this.embedded || t.ami.host !== undefined) await this.deviceStates.start();
    else this.log.info('no telephony.ami.host: device states from AMI are off');
  }

  /**
   * Registers the ARI application: from now on Asterisk hands calls over.
   * Until then its dialplan tells callers the service is unavailable.
   */
  async startCalls(): Promise<void> {
    this.callControl.start();
    // The embedded simulator is up by now; a real Asterisk may come later (the adapter keeps trying).
    if (this.embedded) await this.callControl.ready();
  }

  /** Unregisters the ARI application (the first thing a stopping platform does); stop() does it too. */
  async stopCalls(): Promise<void> {
    await this.callControl.close();
  }

  async stop(): Promise<void> {
    await this.callControl.close();
    await this.deviceStates.close();
    await this.sim?.close();
  }
}
