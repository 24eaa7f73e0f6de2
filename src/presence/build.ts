/** Builds the presence server from the configuration (called by the composition root). */
import type { AccountService } from '../accounts/account-service.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Db } from '../store/db.js';
import { PresenceRepo } from '../store/presence-repo.js';
import { MessageCache } from './message-cache.js';
import { PresenceService } from './presence-service.js';
import { SessionObjects } from './session-objects.js';

export interface PresenceDeps {
  config: Pick<Config, 'presence'>;
  db: Db;
  /** The database file: the message cache opens its own connection to it. */
  dbPath: string;
  accounts: AccountService;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** A freshly signed URL of a voice message's audio, made each time a message is read (null: keep the stored one). */
  audioUrl?: (audioId: string) => string | null;
}

export function buildPresence(deps: PresenceDeps): PresenceService {
  const { config, clock } = deps;
  const repo = new PresenceRepo(deps.db, deps.audioUrl);
  const nodeId = config.presence.nodeId;
  const log = deps.log.child({ part: 'presence', node: nodeId });
  const objects = new SessionObjects({
    repo,
    clock,
    log,
    nodeId,
    idleSeconds: config.presence.sessionObjectIdleSeconds,
    leaseSeconds: config.presence.leaseSeconds,
    onNodeExpired: (dead) => presence.nodeExpired(dead),
  });
  const presence: PresenceService = new PresenceService({
    repo,
    cache: new MessageCache({ dbPath: deps.dbPath, nodeId, clock }),
    objects,
    accounts: deps.accounts,
    clock,
    log,
    nodeId,
    maxMessageBytes: config.presence.maxMessageBytes,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  return presence;
}
