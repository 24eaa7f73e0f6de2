/** The store contract on PostgreSQL: a private server for this file, a database per test. */
import t from 'tap';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { postgresForTests } from '../support/postgres.js';
import { storeContract } from './contract.js';

const server = await postgresForTests(t);
if (server)
  storeContract(t, {
    name: 'postgres',
    async database(t) {
      const url = await server.createDatabase();
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
