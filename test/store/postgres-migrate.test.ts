import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadMigrations } from '../../src/store/sqlite/db.js';
import { loadPgMigrations, pgMigrate, pgMigrationStatus, pgSchemaVersion } from '../../src/store/postgres/migrate.js';
import { createPool, safeUrl } from '../../src/store/postgres/pool.js';
import { postgresForTests } from '../support/postgres.js';

const server = await postgresForTests(t);

t.test('the PostgreSQL migrations mirror the SQLite ones: same numbers, same names', async (t) => {
  t.same(
    loadPgMigrations().map((m) => `${m.version}-${m.name}`),
    loadMigrations().map((m) => `${m.version}-${m.name}`),
  );
});

t.test('safeUrl masks the password and keeps the rest', async (t) => {
  t.equal(safeUrl('postgres://app:s3cret@db.example:5433/im'), 'postgres://app:***@db.example:5433/im');
  t.equal(safeUrl('postgres://app@db.example/im'), 'postgres://app@db.example/im');
  t.notMatch(safeUrl('not a url s3cret'), /s3cret/);
});

if (server) {
  const fresh = async (t: Test) => {
    const pool = createPool({ url: await server.createDatabase(), poolSize: 4 });
    t.teardown(() => pool.end());
    return pool;
  };

  t.test('migrations apply to an empty database in order, then find it up to date', async (t) => {
    const pool = await fresh(t);
    const all = loadPgMigrations().map((m) => m.version);
    t.equal(await pgSchemaVersion(pool), 0);
    t.same(
      (await pgMigrationStatus(pool)).pending.map((p) => p.version),
      all,
      'everything pending',
    );
    t.same(await pgMigrate(pool), all, 'every migration applied, in order');
    t.same(await pgMigrate(pool), [], 'nothing left to apply');
    const s = await pgMigrationStatus(pool);
    t.equal(s.current, all.at(-1));
    t.same(s.pending, []);
    t.match(s.applied[0]?.appliedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    t.equal(await pgSchemaVersion(pool), all.at(-1));
    const tables = (
      await pool.query<{ n: string }>("SELECT tablename AS n FROM pg_tables WHERE schemaname = 'public'")
    ).rows.map((r) => r.n);
    for (const n of ['users', 'messages', 'notify_steps', 'device_calls', 'node_events']) t.ok(tables.includes(n), n);
  });

  t.test('nodes starting together apply each migration once', async (t) => {
    const url = await server.createDatabase();
    const pools = [0, 1, 2].map(() => createPool({ url, poolSize: 2 }));
    t.teardown(() => Promise.all(pools.map((p) => p.end())));
    const results = await Promise.all(pools.map((p) => pgMigrate(p)));
    const applied = results.flat().sort((a, b) => a - b);
    t.same(
      applied,
      loadPgMigrations().map((m) => m.version),
      'each version applied by exactly one node',
    );
  });

  t.test('a failing migration is rolled back whole and named', async (t) => {
    const pool = await fresh(t);
    const dir = join(t.testdir({}), 'm');
    mkdirSync(dir);
    writeFileSync(join(dir, '001-good.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(dir, '002-bad.sql'), 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);');
    writeFileSync(join(dir, 'notes.txt'), 'not a migration');
    const list = loadPgMigrations(dir);
    t.same(
      list.map((m) => m.name),
      ['good', 'bad'],
    );
    await t.rejects(pgMigrate(pool, list), { code: 'STORE_MIGRATION_FAILED', message: /migration 2 \(bad\)/ });
    const tables = (await pool.query("SELECT to_regclass('a')::text AS a, to_regclass('b')::text AS b")).rows[0];
    t.equal(tables.a, 'a', 'the good migration stays');
    t.equal(tables.b, null, 'the bad one left nothing');
    t.equal((await pgMigrationStatus(pool, list)).current, 1);
  });

  t.test('a database from a newer version is refused', async (t) => {
    const pool = await fresh(t);
    await pgMigrate(pool);
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')");
    await t.rejects(pgMigrate(pool), { code: 'STORE_SCHEMA_TOO_NEW', message: /999 \(future\)/ });
    await t.rejects(pgMigrationStatus(pool), { code: 'STORE_SCHEMA_TOO_NEW' });
  });

  t.test('BIGINT values come back as numbers, booleans as booleans', async (t) => {
    const pool = await fresh(t);
    const r = await pool.query('SELECT 1732900000000::bigint AS ms, COUNT(*) AS n, TRUE AS b FROM (VALUES (1)) v');
    t.same(r.rows[0], { ms: 1732900000000, n: 1, b: true });
  });

  t.test('two migrations with one number are a build error', async (t) => {
    const dir = t.testdir({ '001-a.sql': 'SELECT 1;', '001-b.sql': 'SELECT 1;' });
    t.throws(() => loadPgMigrations(dir), /two migrations numbered 1/);
  });

  t.test('statement timeout cancels a long statement', async (t) => {
    const pool = createPool({ url: await server.createDatabase(), statementTimeoutMs: 100 });
    t.teardown(() => pool.end());
    await t.rejects(pool.query('SELECT pg_sleep(5)'), /statement timeout/);
  });

  t.test('an unreachable server is reported without its password', async (t) => {
    const pool = createPool({ url: `postgres://u:hunter2@127.0.0.1:1/x` });
    t.teardown(() => pool.end());
    const e = await pool.query('SELECT 1').catch((e: Error) => e);
    t.ok(e instanceof Error);
    t.notMatch(String((e as Error).message), /hunter2/);
  });
}
