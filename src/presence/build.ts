/** Builds the presence server from the configuration (called by the composition root). */
import type { AccountService } from '../accounts/account-service.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { MessageCache } from './message-cache.js';
import type { MessageCommitter, NodeFeed, PresenceStore } from './ports.js';
import { PresenceService } from './presence-service.js';
import { SessionObjects } from './session-objects.js';

export interface PresenceDeps {
  config: Pick<Config, 'presence'>;
  /** The store's presence port, the message cache's writer and the feed between nodes. */
  store: { presence: PresenceStore; messages: MessageCommitter; feed: NodeFeed };
  accounts: AccountService;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** A freshly signed URL of a voice message's audio, made each time a message is read (null: keep the stored one). */
  audioUrl?: (audioId: string) => string | null;
}

export function buildPresence(deps: PresenceDeps): PresenceService {
  const { config, clock, store } = deps;
  const nodeId = config.presence.nodeId;
  const log = deps.log.child({ part: 'presence', node: nodeId });
  const objects = new SessionObjects({
    repo: store.presence,
    clock,
    log,
    nodeId,
    idleSeconds: config.presence.sessionObjectIdleSeconds,
    leaseSeconds: config.presence.leaseSeconds,
    onNodeExpired: (dead) => presence.nodeExpired(dead),
  });
  const presence: PresenceService = new PresenceService({
    repo: store.presence,
    cache: new MessageCache({ committer: store.messages, clock }),
    feed: store.feed,
    objects,
    accounts: deps.accounts,
    clock,
    log,
    nodeId,
    maxMessageBytes: config.presence.maxMessageBytes,
    audioUrl: deps.audioUrl,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  return presence;
}
