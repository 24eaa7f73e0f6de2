import t, { type Test } from 'tap';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { SessionObjects } from '../../src/presence/session-objects.js';
import { openSqliteStore } from '../../src/store/index.js';

function setup(t: Test) {
  const store = openSqliteStore({ path: `${t.testdir({})}/p.sqlite`, nodeId: 'node-1' });
  const db = store.db;
  t.teardown(() => store.close());
  db.prepare(
    "INSERT INTO users (id, username, account_number, display_name, spoken_name, created_at) VALUES (1, 'bob', '1001', 'Bob', 'Bob', 0)",
  ).run();
  const clock = new ManualClock();
  const repo = store.presence;
  const expired: string[] = [];
  const make = (nodeId: string) =>
    new SessionObjects({
      repo,
      clock,
      log: silentLogger(),
      nodeId,
      idleSeconds: 600,
      leaseSeconds: 15,
      onNodeExpired: (n) => {
        expired.push(`${nodeId} saw ${n} expire`);
      },
    });
  return { db, clock, repo, make, expired };
}

t.test('a session object resumes with its token until it has been idle too long', async (t) => {
  const { clock, make, db } = setup(t);
  const objects = make('node-1');
  await objects.start('http://127.0.0.1:1');
  t.teardown(() => objects.stop());
  const { object, token } = await objects.create(1, 'web');
  t.match(await objects.resume(token), { kind: 'ok', object: { id: object.id, userId: 1, csrf: object.csrf } });
  const stored = db.prepare('SELECT * FROM session_objects').get() as Record<string, unknown>;
  t.notOk(JSON.stringify(stored).includes(token), 'the token itself is not stored');
  t.same(await objects.resume('short'), { kind: 'invalid' });
  t.same(await objects.resume(42), { kind: 'invalid' });
  t.same(await objects.resume('x'.repeat(43)), { kind: 'invalid' });

  // Used every 5 minutes, it lives on; left alone for 10 minutes, it is gone.
  for (let i = 0; i < 4; i++) {
    clock.advance(300_000);
    t.equal((await objects.resume(token)).kind, 'ok', `still there after ${(i + 1) * 5} minutes of use`);
  }
  clock.advance(600_001);
  t.same(await objects.resume(token), { kind: 'invalid' });
  t.equal(await objects.get(object.id), null, 'and deleted');

  // The sweep removes idle objects nobody asks for.
  const other = await objects.create(1, 'wap');
  t.equal((await objects.ofUser(1)).length, 1);
  clock.advance(700_000);
  t.equal(await objects.get(other.object.id), null, 'swept');
  t.equal(await objects.sweep(), 0);
  const last = await objects.create(1, 'api');
  await objects.advanceCursor(last.object.id, 42);
  await objects.advanceCursor(last.object.id, 7);
  t.equal((await objects.get(last.object.id))?.cursor, '42', 'a cursor only moves forward');
  t.ok(await objects.end(last.object.id));
  t.notOk(await objects.end(last.object.id));
});

t.test('another node redirects to the holder while its lease runs, then takes the object over', async (t) => {
  const { clock, make, expired } = setup(t);
  const one = make('node-1');
  const two = make('node-2');
  await one.start('http://127.0.0.1:1111/');
  await two.start('http://127.0.0.1:2222');
  t.teardown(() => {
    one.stop();
    two.stop();
  });
  const { object, token } = await one.create(1, 'web');
  t.same(await two.resume(token), { kind: 'redirect', url: 'http://127.0.0.1:1111', nodeId: 'node-1' });
  clock.advance(60_000);
  t.same(
    await two.resume(token),
    { kind: 'redirect', url: 'http://127.0.0.1:1111', nodeId: 'node-1' },
    'node 1 keeps renewing',
  );
  one.stop();
  clock.advance(14_000);
  t.equal((await two.resume(token)).kind, 'redirect', 'within the lease node 2 still defers');
  clock.advance(6_000);
  t.match(await two.resume(token), { kind: 'ok', object: { id: object.id, nodeId: 'node-2' } }, 'taken over');
  t.ok(expired.includes('node-2 saw node-1 expire'));
  t.equal((await one.resume(token)).kind, 'redirect', 'now node 1 (back) would send it to node 2');
});
