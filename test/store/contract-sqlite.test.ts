/** The store contract on SQLite: a database file per test. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { storeContract } from './contract.js';

storeContract(t, {
  name: 'sqlite',
  async database(t) {
    const path = join(t.testdir({}), 'phoneim.sqlite');
    return {
      async open(nodeId) {
        const store = openSqliteStore({ path, nodeId, feedIntervalMs: 20 });
        t.teardown(() => store.close());
        return store;
      },
      async exec(sql) {
        const db = new Database(path);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
    };
  },
});
