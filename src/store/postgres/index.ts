/**
 * The PostgreSQL store: every port on one database that several nodes share.
 * One pool per node (store.postgres.poolSize connections, each with the
 * statement timeout) and one more connection that LISTENs for the node feed.
 */
import type { Config } from '../../core/config.js';
import { AppError } from '../../core/errors.js';
import type { MigrationStatus, StoreStatus } from '../../core/store-status.js';
import type { Store, StoreOptions } from '../index.js';
import { PgAccounts } from './accounts.js';
import { PgAudio } from './audio.js';
import { PgDb } from './db.js';
import { PgGateway } from './gateway.js';
import { PgFederation } from './federation.js';
import { PgIvrResume } from './ivr-resume.js';
import { PgMessageCommitter } from './message-committer.js';
import { loadPgMigrations, pgMigrate, pgMigrationStatus, pgSchemaVersion } from './migrate.js';
import { PgNodeFeed } from './node-feed.js';
import { PgNotify } from './notify.js';
import { clientConfig, createPool, type PgOptions } from './pool.js';
import { PgPresence } from './presence.js';
import { PgReplyLinks } from './reply-links.js';
import { PgSmsReplies } from './sms-replies.js';
import { PgRoles } from './roles.js';

export interface PostgresStoreOptions extends StoreOptions, PgOptions {
  /** Where the feed reports a lost connection or a failing handler. */
  onError?: (e: unknown) => void;
  /** Another migrations folder (tests). */
  migrationsDir?: string;
}

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /** The node's pool (tools and tests that look at rows). */
  readonly pool: import('pg').Pool;
}

class PgStatus implements StoreStatus {
  readonly kind = 'postgres' as const;
  constructor(
    private readonly db: PgDb,
    private readonly migrationsDir: string | undefined,
  ) {}

  schemaVersion(): Promise<number> {
    return pgSchemaVersion(this.db.pool);
  }

  async isWritable(): Promise<boolean> {
    try {
      const r = await this.db.row<{ ro: string; rec: boolean }>(
        "SELECT current_setting('transaction_read_only') AS ro, pg_is_in_recovery() AS rec",
      );
      return r?.ro === 'off' && r.rec === false;
    } catch {
      return false;
    }
  }

  migrationStatus(): Promise<MigrationStatus> {
    return pgMigrationStatus(this.db.pool, loadPgMigrations(this.migrationsDir));
  }

  migrate(): Promise<number[]> {
    return pgMigrate(this.db.pool, loadPgMigrations(this.migrationsDir));
  }
}

/** Connects, migrates unless told not to, and builds every adapter. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = createPool(options);
  const db = new PgDb(pool);
  const status = new PgStatus(db, options.migrationsDir);
  try {
    if (options.migrate !== false) await status.migrate();
    else await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  const feed = new PgNodeFeed({
    nodeId: options.nodeId,
    pool,
    clientConfig: clientConfig(options),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const messages = new PgMessageCommitter(pool, options.nodeId);
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    pool,
    accounts: new PgAccounts(db),
    roles: new PgRoles(db),
    presence: new PgPresence(db),
    messages,
    feed,
    notify: new PgNotify(db),
    replyLinks: new PgReplyLinks(db),
    smsReplies: new PgSmsReplies(db),
    audio: new PgAudio(db, options.nodeId),
    ivrResume: new PgIvrResume(db),
    gateway: new PgGateway(db),
    federation: new PgFederation(db),
    status,
    close() {
      closing ??= (async () => {
        await feed.close();
        await messages.close();
        await pool.end();
      })();
      return closing;
    },
  };
}

/** The PostgreSQL store the configuration names (store.kind postgres): its URL, pool size and timeout. */
export async function openConfiguredPostgresStore(
  config: Pick<Config, 'store' | 'presence'>,
  options: Omit<PostgresStoreOptions, 'nodeId' | 'url' | 'poolSize' | 'statementTimeoutMs'> = {},
): Promise<PostgresStore> {
  const url = config.store.postgres.url;
  if (!url)
    throw new AppError('CORE_CONFIG_INVALID', 'config: store.postgres.url is required when store.kind is postgres', {
      key: 'store.postgres.url',
    });
  return openPostgresStore({
    ...options,
    url,
    nodeId: config.presence.nodeId,
    poolSize: config.store.postgres.poolSize,
    statementTimeoutMs: config.store.postgres.statementTimeoutMs,
  });
}
