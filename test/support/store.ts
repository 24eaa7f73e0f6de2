/** The SQLite connection behind a store, for tests that look at the file's rows directly. */
import type { Db } from '../../src/store/sqlite/db.js';
import type { SqliteStore, Store } from '../../src/store/index.js';

export function sqliteOf(store: Store): Db {
  if (store.kind !== 'sqlite') throw new Error(`this test reads SQLite rows; the store is ${store.kind}`);
  return (store as SqliteStore).db;
}
