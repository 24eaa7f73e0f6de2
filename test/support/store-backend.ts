/**
 * Which store the flow tests run on. By default SQLite (a file in the test's
 * data directory). With PHONEIM_TEST_STORE=postgres, a private PostgreSQL
 * server for the test process (started by the first platform that needs it)
 * and a database per data directory: two platforms on one data directory are
 * two nodes of one community, as they are on one SQLite file.
 *
 *   PHONEIM_TEST_STORE=postgres npx tap test/presence/... test/notify/... test/web/...
 */
import type { Config } from '../../src/core/config.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export const TEST_STORE: 'sqlite' | 'postgres' = process.env.PHONEIM_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

let server: Promise<TestPostgres | { unavailable: string }> | undefined;
const databases = new Map<string, Promise<string>>();

/**
 * The config overrides that put a platform on the test store: none for
 * SQLite; store.kind and store.postgres.url for PostgreSQL. PostgreSQL was
 * asked for by name: where no server can start, this fails with the reason
 * (a run on SQLite instead would pass for what it is not).
 */
export async function testStoreOverrides(dataDir: string): Promise<Record<string, unknown>> {
  if (TEST_STORE === 'sqlite') return {};
  server ??= startPostgres({ shared: true });
  const s = await server;
  if ('unavailable' in s) throw new Error(`PHONEIM_TEST_STORE=postgres: PostgreSQL not available: ${s.unavailable}`);
  let url = databases.get(dataDir);
  if (!url) {
    url = s.createDatabase();
    databases.set(dataDir, url);
  }
  return { store: { kind: 'postgres', postgres: { url: await url, poolSize: 4 } } };
}

/**
 * The environment that points phonectl at the same store as a platform on
 * `dataDir` (with the data directory given as --data-dir): nothing for
 * SQLite, the store kind and DATABASE_URL for PostgreSQL.
 */
export async function testStoreEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  if (TEST_STORE === 'sqlite') return {};
  const { store } = (await testStoreOverrides(dataDir)) as { store: { postgres: { url: string } } };
  return { PHONEIM_STORE__KIND: 'postgres', DATABASE_URL: store.postgres.url };
}

/**
 * The store to hand to a platform or buildServices on `config` (made with
 * testStoreOverrides): undefined on SQLite, where they open the file in the
 * data directory themselves; the opened PostgreSQL store otherwise.
 */
export async function openTestStore(config: Config): Promise<Store | undefined> {
  return config.store.kind === 'postgres' ? openStore(config) : undefined;
}
