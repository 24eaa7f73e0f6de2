/** The store contract on PostgreSQL: a private server for this file, a database per test. */
import t from 'tap';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { pgMigrate } from '../../src/store/postgres/migrate.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { postgresForTests } from '../support/postgres.js';
import { storeContract } from './contract.js';

const server = await postgresForTests(t);
if (server) {
  // Every test's database is a copy of one migrated here (the migrations themselves are tested below and in
  // postgres-migrate.test.ts); opening a store on it finds nothing to apply.
  const templateUrl = await server.createDatabase();
  const pool = createPool({ url: templateUrl, poolSize: 1 });
  await pgMigrate(pool);
  await pool.end();
  const template = new URL(templateUrl).pathname.slice(1);
  storeContract(t, {
    name: 'postgres',
    async database(t) {
      const url = await server.createDatabase({ template });
      return {
        async open(nodeId) {
          const store = await openPostgresStore({ url, nodeId, poolSize: 4 });
          t.teardown(() => store.close());
          return store;
        },
        async exec(sql) {
          const pool = createPool({ url, poolSize: 1 });
          try {
            await pool.query(sql);
          } finally {
            await pool.end();
          }
        },
      };
    },
  });
}
