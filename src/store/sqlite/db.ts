/**
 * The SQLite store's connection: one database file per community, WAL journal, foreign
 * keys on, numbered migrations applied at start-up in one transaction each.
 *
 * Migrations are `migrations/NNN-name.sql`, applied in number order and
 * recorded in `schema_migrations`; a database that records a number this
 * build does not know was written by a newer version and is refused.
 * Capabilities own number ranges so that parallel work never collides:
 * 001-009 accounts, 010-019 audio, 020-029 presence, 030-039 ivr,
 * 040-049 notify, 050-059 federation, 060-069 gateway, 070-079 telephony.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.js';
import type { MigrationStatus } from '../../core/store-status.js';

export type Db = Database.Database;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d{3})-([a-z0-9-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2] as string, sql: readFileSync(join(dir, file), 'utf8') });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.version === out[i - 1]?.version) throw new Error(`two migrations numbered ${out[i]?.version}`);
  }
  return out;
}

export interface OpenOptions {
  /** A file path, or ':memory:'. */
  path: string;
  migrationsDir?: string;
  readonly?: boolean;
}

/** Opens the database (creating its folder) and tunes it; does not migrate. */
export function openDb(options: OpenOptions): Db {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { readonly: options.readonly ?? false });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return options.readonly ? withStatementCache(db) : writesFirst(withStatementCache(db));
}

/**
 * Every transaction on the connection begins IMMEDIATE (the write lock taken
 * at BEGIN): writer threads (the message cache's, the notifier's) commit on
 * connections of their own, and a deferred transaction that read before one
 * of their commits cannot then write (SQLITE_BUSY at once: busy_timeout does
 * not help a stale snapshot). Nested calls stay savepoints.
 */
function writesFirst(db: Db): Db {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const run = (...args: unknown[]) => tx.immediate(...args);
    return Object.assign(run, {
      default: tx.immediate,
      deferred: tx.deferred,
      immediate: tx.immediate,
      exclusive: tx.exclusive,
    });
  }) as Db['transaction'];
  return db;
}

/** Statements kept per connection (the adapters' SQL has a few hundred shapes). */
const STATEMENT_CACHE = 500;

/**
 * `db.prepare` answers the same statement again for the same SQL: preparing
 * (parsing and planning) cost more than running on the hot paths (a post, a
 * log-on, a link opening). Safe because no adapter iterates a statement or
 * changes its mode (pluck, raw, expand), and SQLite re-prepares a statement
 * by itself after a schema change. The oldest goes when the cache is full.
 */
function withStatementCache(db: Db): Db {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  db.prepare = ((sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      st = prepare(sql);
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, st);
    }
    return st;
  }) as Db['prepare'];
  return db;
}

function ensureTable(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  ) STRICT`);
}

export function migrationStatus(db: Db, migrations = loadMigrations()): MigrationStatus {
  ensureTable(db);
  const applied = db
    .prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version')
    .all() as MigrationStatus['applied'];
  const done = new Set(applied.map((a) => a.version));
  const known = new Set(migrations.map((m) => m.version));
  const unknown = applied.find((a) => !known.has(a.version));
  if (unknown)
    throw new AppError(
      'STORE_SCHEMA_TOO_NEW',
      `the database has migration ${unknown.version} (${unknown.name}), which this version does not know`,
    );
  return {
    current: applied.at(-1)?.version ?? 0,
    applied,
    pending: migrations.filter((m) => !done.has(m.version)).map(({ version, name }) => ({ version, name })),
  };
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export function migrate(db: Db, migrations = loadMigrations()): number[] {
  const status = migrationStatus(db, migrations);
  const pending = new Set(status.pending.map((p) => p.version));
  const done: number[] = [];
  for (const m of migrations) {
    if (!pending.has(m.version)) continue;
    const apply = db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(m.version, m.name);
    });
    try {
      apply();
    } catch (e) {
      throw new AppError(
        'STORE_MIGRATION_FAILED',
        `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`,
        { version: m.version },
        { cause: e },
      );
    }
    done.push(m.version);
  }
  return done;
}

/** Opens and migrates: what start-up and the CLI do. */
export function openStore(path: string): Db {
  const db = openDb({ path });
  migrate(db);
  return db;
}

/** The newest migration applied (what /health reports). */
export function schemaVersion(db: Db): number {
  return (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
}

/**
 * Whether the database takes writes now: the write lock is taken and given
 * back at once (a read-only file, a full disk's lock or a closed handle fail).
 */
export function isWritable(db: Db): boolean {
  if (!db.open) return false;
  // A transaction in progress on this handle is a write under way.
  if (db.inTransaction) return true;
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
