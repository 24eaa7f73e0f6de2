/**
 * The store: the adapters of the capabilities' storage ports, behind one
 * aggregate the composition root opens and closes.
 *
 * - `sqlite/` (better-sqlite3): the embedded default, one file, one node (or
 *   several processes on one machine). Nothing else to install.
 * - `postgres/` (node-postgres): a community of several nodes on one
 *   database. It plugs in beside `openSqliteStore` as another opener that
 *   returns the same `Store`; `openStore` picks by kind.
 *
 * Dependencies point inward: the store imports the capabilities' port types;
 * no capability imports the store.
 */
import { join, resolve } from 'node:path';
import type { AccountStore, RoleStore } from '../accounts/ports.js';
import type { AudioStore } from '../audio/ports.js';
import type { Config } from '../core/config.js';
import type { StoreKind, StoreStatus } from '../core/store-status.js';
import type { GatewayStore } from '../gateway/ports.js';
import type { FederationStore } from '../federation/ports.js';
import type { IvrResumeStore } from '../ivr/ports.js';
import type { NotifyStore, ReplyLinkUses, SmsReplyStore } from '../notify/ports.js';
import type { MessageCommitter, NodeFeed, PresenceStore } from '../presence/ports.js';
import { openConfiguredPostgresStore } from './postgres/index.js';
import { safeUrl } from './postgres/pool.js';
import { openSqliteStore } from './sqlite/index.js';

export type { StoreKind, StoreStatus } from '../core/store-status.js';
export { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite/index.js';

/** Every storage port of the platform, on one backend. */
export interface Store {
  readonly kind: StoreKind;
  readonly accounts: AccountStore;
  /** Users' roles (admin: the operator's view). */
  readonly roles: RoleStore;
  readonly presence: PresenceStore;
  /** The message cache's group-commit writer (its own connection, or a writer thread). */
  readonly messages: MessageCommitter;
  /** Events between the nodes sharing this store. */
  readonly feed: NodeFeed;
  readonly notify: NotifyStore;
  readonly replyLinks: ReplyLinkUses;
  /** Reply codes of pages sent over SMPP (answering an alert by SMS). */
  readonly smsReplies: SmsReplyStore;
  readonly audio: AudioStore;
  readonly ivrResume: IvrResumeStore;
  /** The XMPP gateway's contacts, rosters, sessions, outbox and connection state. */
  readonly gateway: GatewayStore;
  /** Peer communities, their queues, received events and remote members. */
  readonly federation: FederationStore;
  /** Schema version, migrations, writability. */
  readonly status: StoreStatus;
  /** Closes the feed, the message writer (after its commit under way) and the connections. Idempotent. */
  close(): Promise<void>;
}

/** What every backend's opener is given. */
export interface StoreOptions {
  /** This node's id (presence.nodeId): stamps links, messages and claimed steps, and filters the node feed. */
  nodeId: string;
  /** Apply pending migrations while opening (start-up does; `phonectl db status` does not). Default true. */
  migrate?: boolean;
  /** How often a polling node feed looks for other nodes' events (ms). Default 250. */
  feedIntervalMs?: number;
  /** Where failures in the background (the node feed) are reported. */
  onError?: (e: unknown) => void;
}

/** The embedded store's file in the data directory. */
export function sqlitePath(config: Pick<Config, 'dataDir'>): string {
  return join(resolve(config.dataDir), 'phoneim.sqlite');
}

/**
 * Opens the store the configuration names (store.kind): SQLite in the data
 * directory, or PostgreSQL at store.postgres.url.
 */
export async function openStore(
  config: Pick<Config, 'dataDir' | 'presence' | 'store'>,
  options: Omit<StoreOptions, 'nodeId'> = {},
): Promise<Store> {
  if (config.store.kind === 'postgres') return openConfiguredPostgresStore(config, options);
  return openSqliteStore({ ...options, path: sqlitePath(config), nodeId: config.presence.nodeId });
}

/** Where the store is, for operators' messages: the SQLite file, or the PostgreSQL URL without its password. */
export function storeLocation(config: Pick<Config, 'dataDir' | 'store'>): string {
  return config.store.kind === 'postgres' ? safeUrl(config.store.postgres.url ?? '') : sqlitePath(config);
}
