/**
 * Connections to PostgreSQL: one pool per node, its size and statement
 * timeout from the config. BIGINT columns (times in milliseconds, message
 * ids) come back as numbers, as on SQLite: every value we store fits in a
 * double exactly. The URL's password never appears in a message or a log:
 * `safeUrl` is what may be shown.
 */
import pg from 'pg';

export interface PgOptions {
  url: string;
  poolSize?: number;
  /** 0 = no limit. */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

const INT8_OID = 20;

/** This adapter's type parsers: int8 as a number; everything else as pg's defaults. Not global. */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function clientConfig(options: PgOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    types: pgTypes,
    application_name: options.applicationName ?? 'phoneim',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  };
}

export function createPool(options: PgOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize ?? 10 });
  // An idle client whose server went away must not take the process down; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** The URL with its password masked, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** Runs `fn` in one transaction on one client of the pool: all of it commits, or none. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
