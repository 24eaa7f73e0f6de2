/** `phonectl db status|migrate` on PostgreSQL (store.kind postgres, DATABASE_URL), as an operator runs them. */
import t from 'tap';
import { loadPgMigrations } from '../../src/store/postgres/migrate.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { phonectl } from '../support/cli.js';
import { postgresForTests } from '../support/postgres.js';

const server = await postgresForTests(t);

if (server)
  t.test('db status shows what is pending, db migrate applies it, a newer database is refused', async (t) => {
    const plain = await server.createDatabase();
    // The operator's URL carries a password (trust auth ignores it); it never shows.
    const url = plain.replace('phoneim@', 'phoneim:s3cret-pw@');
    const cli = phonectl(t.testdir({}), { PHONEIM_STORE__KIND: 'postgres', DATABASE_URL: url });
    const all = loadPgMigrations();

    const before = await cli(['db', 'status', '--json']);
    t.equal(before.code, 0, before.stderr);
    const s0 = JSON.parse(before.stdout) as { current: number; pending: { version: number }[]; path: string };
    t.equal(s0.current, 0);
    t.same(
      s0.pending.map((p) => p.version),
      all.map((m) => m.version),
    );
    t.notMatch(before.stdout, /s3cret-pw/, 'no password in the output');

    const m = await cli(['db', 'migrate']);
    t.equal(m.code, 0, m.stderr);
    t.match(
      m.stdout,
      new RegExp(
        `applied migrations ${all.map((x) => x.version).join(', ')} to postgres://phoneim:\\*\\*\\*@127\\.0\\.0\\.1`,
      ),
    );
    t.notMatch(m.stdout, /s3cret-pw/);
    const again = await cli(['db', 'migrate']);
    t.match(again.stdout, /is up to date/);

    const table = await cli(['db', 'status']);
    t.equal(table.code, 0);
    t.match(table.stdout, /accounts/);
    t.match(table.stdout, /applied/);
    t.notMatch(table.stdout, /pending/);

    const pool = createPool({ url: plain, poolSize: 1 });
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from-the-future')");
    await pool.end();
    const refused = await cli(['db', 'status']);
    t.equal(refused.code, 70, 'refused as the SQLite store is: a fault of this build, not of the request');
    t.match(refused.stderr, /999 \(from-the-future\).*STORE_SCHEMA_TOO_NEW/);
    t.notMatch(refused.stderr, /s3cret-pw/);
  });
