/**
 * The SQLite store: every port on one database file (the embedded default).
 * The ports' adapters share one connection on the main thread; the message
 * cache's group commit has its own (a writer thread by default).
 */
import type { AccountStore, RoleStore } from '../../accounts/ports.js';
import type { AudioStore } from '../../audio/ports.js';
import type { MigrationStatus, StoreStatus } from '../../core/store-status.js';
import type { GatewayStore } from '../../gateway/ports.js';
import type { FederationStore } from '../../federation/ports.js';
import type { IvrResumeStore } from '../../ivr/ports.js';
import type { NotifyStore, ReplyLinkUses, SmsReplyStore } from '../../notify/ports.js';
import type { PresenceStore } from '../../presence/ports.js';
import type { Store, StoreOptions } from '../index.js';
import { SqliteAccounts } from './accounts.js';
import { SqliteAudio } from './audio.js';
import { type Db, isWritable, migrate, migrationStatus, openDb, schemaVersion } from './db.js';
import { SqliteGateway } from './gateway.js';
import { SqliteFederationStore } from './federation.js';
import { SqliteIvrResume } from './ivr-resume.js';
import { SqliteMessageCommitter } from './message-committer.js';
import { SqliteNodeFeed } from './node-feed.js';
import { SqliteNotify } from './notify.js';
import { SqliteNotifyWriter } from './notify-committer.js';
import { SqlitePresence } from './presence.js';
import { promised } from './promised.js';
import { SqliteReplyLinks } from './reply-links.js';
import { SqliteSmsReplies } from './sms-replies.js';
import { SqliteRoles } from './roles.js';

export interface SqliteStoreOptions extends StoreOptions {
  /** The database file (created with its folder), or ':memory:' (no message writer thread then). */
  path: string;
  /** The message cache commits on the calling thread instead of a writer thread. */
  inlineMessageWriter?: boolean;
  /** The notifier's claims and step ends commit on the main connection instead of a writer thread. */
  inlineNotifyWriter?: boolean;
}

/** The SQLite store; `db` is its main connection (for tools and tests that look at the file's rows). */
export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  readonly path: string;
  readonly db: Db;
}

class SqliteStatus implements StoreStatus {
  readonly kind = 'sqlite' as const;
  constructor(private readonly db: Db) {}

  async schemaVersion(): Promise<number> {
    return schemaVersion(this.db);
  }

  async isWritable(): Promise<boolean> {
    return isWritable(this.db);
  }

  async migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus(this.db);
  }

  async migrate(): Promise<number[]> {
    return migrate(this.db);
  }
}

/**
 * Opens (creating) the file, migrates it unless told not to, and builds every
 * adapter. Synchronous: better-sqlite3 is; `openStore` offers it async like
 * the other backends.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDb({ path: options.path });
  try {
    if (options.migrate !== false) migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const feed = new SqliteNodeFeed(db, {
    nodeId: options.nodeId,
    ...(options.feedIntervalMs === undefined ? {} : { intervalMs: options.feedIntervalMs }),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const messages = new SqliteMessageCommitter({
    path: options.path,
    nodeId: options.nodeId,
    inline: options.inlineMessageWriter === true || options.path === ':memory:',
  });
  let closing: Promise<void> | undefined;
  // Adapters prepare their statements when built: built on first use, so an
  // unmigrated file can be opened for `phonectl db status|migrate`.
  const lazy = <T>(make: () => T): (() => T) => {
    let made: T | undefined;
    return () => {
      made ??= make();
      return made;
    };
  };
  // The type annotations are the proof that each adapter implements its port.
  const accounts = lazy((): AccountStore => promised(new SqliteAccounts(db)));
  const roles = lazy((): RoleStore => promised(new SqliteRoles(db)));
  const presence = lazy((): PresenceStore => promised(new SqlitePresence(db)));
  const notifyWriter =
    options.inlineNotifyWriter === true || options.path === ':memory:'
      ? undefined
      : new SqliteNotifyWriter(options.path);
  const notify = lazy((): NotifyStore => {
    const inThread = promised(new SqliteNotify(db));
    const w = notifyWriter;
    if (!w) return inThread;
    // The hot commits (and their fsyncs) on the writer thread; reads and the rare writes on the main connection.
    return {
      ...inThread,
      warm: () => w.warm(),
      claimDueSteps: (...a) => w.call('claimDueSteps', a),
      recordStepEnds: (...a) => w.call('recordStepEnds', a),
      foldMessages: (...a) => w.call('foldMessages', a),
      startAlerts: (...a) => w.call('startAlerts', a),
    };
  });
  const replyLinks = lazy((): ReplyLinkUses => promised(new SqliteReplyLinks(db)));
  const smsReplies = lazy((): SmsReplyStore => promised(new SqliteSmsReplies(db)));
  const audio = lazy((): AudioStore => promised(new SqliteAudio(db, options.nodeId)));
  const ivrResume = lazy((): IvrResumeStore => promised(new SqliteIvrResume(db)));
  const gateway = lazy((): GatewayStore => promised(new SqliteGateway(db)));
  const federation = lazy((): FederationStore => new SqliteFederationStore(db));
  return {
    kind: 'sqlite',
    path: options.path,
    db,
    get accounts() {
      return accounts();
    },
    get roles() {
      return roles();
    },
    get presence() {
      return presence();
    },
    messages,
    feed,
    get notify() {
      return notify();
    },
    get replyLinks() {
      return replyLinks();
    },
    get smsReplies() {
      return smsReplies();
    },
    get audio() {
      return audio();
    },
    get ivrResume() {
      return ivrResume();
    },
    get gateway() {
      return gateway();
    },
    get federation() {
      return federation();
    },
    status: new SqliteStatus(db),
    close() {
      closing ??= (async () => {
        await feed.close();
        await messages.close();
        await notifyWriter?.close();
        db.close();
      })();
      return closing;
    },
  };
}
