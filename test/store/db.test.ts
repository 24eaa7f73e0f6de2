import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadMigrations, migrate, migrationStatus, openDb, openStore } from '../../src/store/sqlite/db.js';

t.test('migrations apply to an empty database, then find it up to date', async (t) => {
  const path = join(t.testdir({}), 'sub', 'db.sqlite');
  const db = openDb({ path });
  t.teardown(() => db.close());
  const all = loadMigrations().map((m) => m.version);
  t.ok(all.includes(1));
  t.same(migrationStatus(db).current, 0);
  t.same(migrate(db), all, 'every migration applied, in order');
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  );
  t.ok(['users', 'credentials', 'caller_ids', 'devices'].every((n) => tables.includes(n)));
  t.same(migrate(db), [], 'nothing to apply to an up-to-date database');
  const s = migrationStatus(db);
  t.equal(s.current, all.at(-1));
  t.same(s.pending, []);
});

t.test('reopening an up-to-date file keeps its data', async (t) => {
  const path = join(t.testdir({}), 'db.sqlite');
  const a = openStore(path);
  a.prepare(
    "INSERT INTO users (username, account_number, display_name, spoken_name, created_at) VALUES ('a', '1000', 'A', 'A', 0)",
  ).run();
  a.close();
  const b = openStore(path);
  t.teardown(() => b.close());
  t.equal((b.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n, 1);
});

t.test('a failing migration is rolled back whole and named', async (t) => {
  const dir = t.testdir({});
  const migrations = join(dir, 'm');
  mkdirSync(migrations);
  writeFileSync(join(migrations, '001-good.sql'), 'CREATE TABLE a (x INTEGER);');
  writeFileSync(join(migrations, '002-bad.sql'), 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);');
  writeFileSync(join(migrations, 'README.txt'), 'not a migration');
  const db = openDb({ path: join(dir, 'db.sqlite') });
  t.teardown(() => db.close());
  const list = loadMigrations(migrations);
  t.same(
    list.map((m) => m.name),
    ['good', 'bad'],
  );
  t.throws(() => migrate(db, list), { code: 'STORE_MIGRATION_FAILED', message: /migration 2 \(bad\)/ });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  );
  t.ok(tables.includes('a'), 'the good migration stays');
  t.notOk(tables.includes('b'), 'the bad one left nothing');
  t.equal(migrationStatus(db, list).current, 1);
});

t.test('a database from a newer version is refused', async (t) => {
  const dir = t.testdir({});
  const db = openDb({ path: join(dir, 'db.sqlite') });
  t.teardown(() => db.close());
  migrate(db);
  db.prepare("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')").run();
  t.throws(() => migrate(db), { code: 'STORE_SCHEMA_TOO_NEW' });
});

t.test('two migrations with one number are a build error', async (t) => {
  const dir = t.testdir({ '001-a.sql': 'SELECT 1;', '001-b.sql': 'SELECT 1;' });
  t.throws(() => loadMigrations(dir), /two migrations numbered 1/);
});

t.test('a transaction that reads, then writes, is not undone by a writer on another connection', async (t) => {
  // The message cache's and the notifier's writer threads commit on connections of their own.
  const path = join(t.testdir({}), 'db.sqlite');
  const main = openDb({ path });
  t.teardown(() => main.close());
  main.exec('CREATE TABLE t (n INTEGER)');
  const other = openDb({ path });
  t.teardown(() => other.close());
  other.pragma('busy_timeout = 0');
  const otherWrote = main.transaction(() => {
    main.prepare('SELECT COUNT(*) AS n FROM t').get();
    let wrote = true;
    try {
      other.prepare('INSERT INTO t VALUES (1)').run();
    } catch {
      wrote = false; // it waits for the write lock this transaction took at BEGIN
    }
    main.prepare('INSERT INTO t VALUES (2)').run();
    return wrote;
  })();
  t.equal(otherWrote, false, 'the other connection waited its turn');
  t.same(main.prepare('SELECT n FROM t').all(), [{ n: 2 }], 'this transaction wrote');
  const nested = main.transaction(() => {
    main.prepare('INSERT INTO t VALUES (3)').run();
    try {
      main.transaction(() => {
        main.prepare('INSERT INTO t VALUES (4)').run();
        throw new Error('undo the inner one');
      })();
    } catch {}
  });
  nested();
  t.same(
    main.prepare('SELECT n FROM t ORDER BY n').all(),
    [{ n: 2 }, { n: 3 }],
    'a nested transaction is still a savepoint',
  );
});
