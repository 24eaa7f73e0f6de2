/**
 * PostgreSQL schema migrations: `migrations/NNN-name.sql`, with the same
 * numbers and names as the SQLite ones, so both backends report the same
 * version. Each is applied in its own transaction and recorded in
 * `schema_migrations`; a database that records a number this build does not
 * know was written by a newer version and is refused. Nodes starting together
 * take turns through an advisory lock: the second finds nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { AppError } from '../../core/errors.js';
import type { Queryable } from './pool.js';

export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** pg_advisory_lock key of the migration runner ("phim" in ASCII). */
const MIGRATE_LOCK = 0x7068696d;

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface PgMigrationStatus {
  current: number;
  applied: { version: number; name: string; appliedAt: string }[];
  pending: { version: number; name: string }[];
}

export function loadPgMigrations(dir = PG_MIGRATIONS_DIR): PgMigration[] {
  const out: PgMigration[] = [];
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

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
)`;

/** What is applied and what is pending; reads only (an empty database has nothing applied). */
export async function pgMigrationStatus(db: Queryable, migrations = loadPgMigrations()): Promise<PgMigrationStatus> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  const applied = exists.rows[0]?.t
    ? (
        await db.query<{ version: number; name: string; appliedAt: string }>(
          'SELECT version, name, applied_at AS "appliedAt" FROM schema_migrations ORDER BY version',
        )
      ).rows
    : [];
  const known = new Set(migrations.map((m) => m.version));
  const unknown = applied.find((a) => !known.has(a.version));
  if (unknown)
    throw new AppError(
      'STORE_SCHEMA_TOO_NEW',
      `the database has migration ${unknown.version} (${unknown.name}), which this version does not know`,
    );
  const done = new Set(applied.map((a) => a.version));
  return {
    current: applied.at(-1)?.version ?? 0,
    applied,
    pending: migrations.filter((m) => !done.has(m.version)).map(({ version, name }) => ({ version, name })),
  };
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export async function pgMigrate(pool: pg.Pool, migrations = loadPgMigrations()): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      await client.query(CREATE_TABLE);
      const status = await pgMigrationStatus(client, migrations);
      const pending = new Set(status.pending.map((p) => p.version));
      const done: number[] = [];
      for (const m of migrations) {
        if (!pending.has(m.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
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
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** The newest migration applied (what /health reports); 0 on an empty database. */
export async function pgSchemaVersion(db: Queryable): Promise<number> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return 0;
  const r = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return r.rows[0]?.v ?? 0;
}
