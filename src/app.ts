/**
 * The platform as one object: builds every part from the config and hands
 * each its collaborators (the composition root's body; src/main.ts only adds
 * the process around it). Tests start it on port 0 with a temporary data
 * directory, exactly as `make run` starts it.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccountService } from './accounts/account-service.js';
import { type Clock, SystemClock } from './core/clock.js';
import { type Config, publicUrl } from './core/config.js';
import type { Logger } from './core/logger.js';
import { AccountsRepo } from './store/accounts-repo.js';
import type { Simulator } from './sim/index.js';
import { type Db, openStore } from './store/db.js';
import type { CallControl, DeviceStateSource } from './telephony/port.js';
import { Telephony } from './telephony/telephony.js';
import { HttpServer, sendJson } from './web/http-server.js';

export const VERSION = '0.1.0';

export interface PlatformDeps {
  config: Config;
  log: Logger;
  clock?: Clock;
}

/** The services a running platform exposes (to tests, the CLI and each other). */
export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Db;
  accounts: AccountService;
  /** Call control (ARI); connected by Platform.start. */
  callControl: CallControl;
  /** Device states (AMI); connected by Platform.start. */
  deviceStates: DeviceStateSource;
  /** The embedded softswitch simulator, when no Asterisk is configured (set by Platform.start). */
  sim: Simulator | undefined;
  telephony: Telephony;
}

export function dbPath(config: Config): string {
  return join(resolve(config.dataDir), 'phoneim.sqlite');
}

/** The store and the services over it, without any listener: what the admin CLI uses. */
export function buildServices(deps: PlatformDeps): Services {
  const { config, log } = deps;
  const clock = deps.clock ?? new SystemClock();
  mkdirSync(resolve(config.dataDir), { recursive: true });
  const db = openStore(dbPath(config));
  const accounts = new AccountService({
    repo: new AccountsRepo(db),
    clock,
    config,
    log: log.child({ part: 'accounts' }),
  });
  const telephony = new Telephony(config, log.child({ part: 'telephony' }), clock);
  return {
    config,
    log,
    clock,
    db,
    accounts,
    telephony,
    callControl: telephony.callControl,
    deviceStates: telephony.deviceStates,
    sim: undefined,
  };
}

export class Platform {
  readonly services: Services;
  readonly http: HttpServer;
  private readonly startedAt: number;
  private stopping: Promise<void> | undefined;

  get callControl(): CallControl {
    return this.services.callControl;
  }

  get deviceStates(): DeviceStateSource {
    return this.services.deviceStates;
  }

  get sim(): Simulator | undefined {
    return this.services.sim;
  }

  constructor(deps: PlatformDeps) {
    this.services = buildServices(deps);
    this.startedAt = this.services.clock.now();
    const { config, log } = this.services;
    this.http = new HttpServer({ host: config.http.host, port: config.http.port, log: log.child({ part: 'web' }) });
    this.http.router.get('/health', ({ res }) => {
      const row = this.services.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number };
      sendJson(res, 200, {
        status: 'ok',
        version: VERSION,
        node: config.presence.nodeId,
        schema: row.v,
        uptimeSeconds: Math.round((this.services.clock.now() - this.startedAt) / 1000),
      });
    });
  }

  /** Starts every listener; returns the HTTP base URL. */
  async start(): Promise<string> {
    await this.services.telephony.start();
    this.services.sim = this.services.telephony.sim;
    const port = await this.http.listen();
    const url = publicUrl(this.services.config, port);
    this.services.log.info({ url, dataDir: resolve(this.services.config.dataDir) }, 'platform started');
    return url;
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.http.close();
      await this.services.telephony.stop();
      this.services.db.close();
      this.services.log.info('platform stopped');
    })();
    return this.stopping;
  }
}
