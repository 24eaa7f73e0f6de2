/**
 * The few helpers every PostgreSQL adapter uses: a query that returns rows,
 * one row, or a count, on the pool or on the client of a transaction, and
 * the unique-violation test. Every statement has its parameters bound
 * ($1, $2, ...); no value is ever spliced into SQL text.
 */
import type pg from 'pg';
import { inTransaction } from './pool.js';

export type Executor = Pick<pg.ClientBase, 'query'>;

export class PgDb {
  constructor(readonly pool: pg.Pool) {}

  async rows<T>(sql: string, params: unknown[] = [], on: Executor = this.pool): Promise<T[]> {
    return (await on.query(sql, params)).rows as T[];
  }

  async row<T>(sql: string, params: unknown[] = [], on: Executor = this.pool): Promise<T | null> {
    return ((await on.query(sql, params)).rows[0] as T | undefined) ?? null;
  }

  /** Rows the statement changed. */
  async count(sql: string, params: unknown[] = [], on: Executor = this.pool): Promise<number> {
    return (await on.query(sql, params)).rowCount ?? 0;
  }

  /** All of `fn` commits, or none of it. */
  tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }
}

/** Whether a PostgreSQL error is a unique violation (of the given table, when named). */
export function isUniqueViolation(e: unknown, table?: string): boolean {
  const err = e as { code?: string; table?: string };
  return err?.code === '23505' && (table === undefined || err.table === table);
}
