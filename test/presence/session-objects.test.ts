import t, { type Test } from 'tap';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { SessionObjects } from '../../src/presence/session-objects.js';
import { openStore } from '../../src/store/db.js';
import { PresenceRepo } from '../../src/store/presence-repo.js';

function setup(t: Test) {
  const db = openStore(`${t.testdir({})}/p.sqlite`);
  t.teardown(() => db.close());
  db.prepare(
    "INSERT INTO users (id, username, account_number, display_name, spoken_name, created_at) VALUES (1, 'bob', '1001', 'Bob', 'Bob', 0)",
  ).run();
  const clock = new ManualClock();
  const repo = new PresenceRepo(db);
  const expired: string[] = [];
  const make = (nodeId: string) =>
    new SessionObjects({
      repo,
      clock,
      log: silentLogger(),
      nodeId,
      idleSeconds: 600,
      leaseSeconds: 15,
      onNodeExpired: (n) => expired.push(`${nodeId} saw ${n} expire`),
    });
  return { db, clock, repo, make, expired };
}

t.test('a session object resumes with its token until it has been idle too long', async (t) => {
  const { clock, make, db } = setup(t);
  const objects = make('node-1');
  objects.start('http://127.0.0.1:1');
  t.teardown(() => objects.stop());
  const { object, token } = objects.create(1, 'web');
  t.match(objects.resume(token), { kind: 'ok', object: { id: object.id, userId: 1, csrf: object.csrf } });
  const stored = db.prepare('SELECT * FROM session_objects').get() as Record<string, unknown>;
  t.notOk(JSON.stringify(stored).includes(token), 'the token itself is not stored');
  t.same(objects.resume('short'), { kind: 'invalid' });
  t.same(objects.resume(42), { kind: 'invalid' });
  t.same(objects.resume('x'.repeat(43)), { kind: 'invalid' });

  // Used every 5 minutes, it lives on; left alone for 10 minutes, it is gone.
  for (let i = 0; i < 4; i++) {
    clock.advance(300_000);
    t.equal(objects.resume(token).kind, 'ok', `still there after ${(i + 1) * 5} minutes of use`);
  }
  clock.advance(600_001);
  t.same(objects.resume(token), { kind: 'invalid' });
  t.equal(objects.get(object.id), null, 'and deleted');

  // The sweep removes idle objects nobody asks for.
  const other = objects.create(1, 'wap');
  t.equal(objects.ofUser(1).length, 1);
  clock.advance(700_000);
  t.equal(objects.get(other.object.id), null, 'swept');
  t.equal(objects.sweep(), 0);
  const last = objects.create(1, 'api');
  objects.advanceCursor(last.object.id, 42);
  objects.advanceCursor(last.object.id, 7);
  t.equal(objects.get(last.object.id)?.cursor, '42', 'a cursor only moves forward');
  t.ok(objects.end(last.object.id));
  t.notOk(objects.end(last.object.id));
});

t.test('another node redirects to the holder while its lease runs, then takes the object over', async (t) => {
  const { clock, make, expired } = setup(t);
  const one = make('node-1');
  const two = make('node-2');
  one.start('http://127.0.0.1:1111/');
  two.start('http://127.0.0.1:2222');
  t.teardown(() => {
    one.stop();
    two.stop();
  });
  const { object, token } = one.create(1, 'web');
  t.same(two.resume(token), { kind: 'redirect', url: 'http://127.0.0.1:1111', nodeId: 'node-1' });
  clock.advance(60_000);
  t.same(
    two.resume(token),
    { kind: 'redirect', url: 'http://127.0.0.1:1111', nodeId: 'node-1' },
    'node 1 keeps renewing',
  );
  one.stop();
  clock.advance(14_000);
  t.equal(two.resume(token).kind, 'redirect', 'within the lease node 2 still defers');
  clock.advance(6_000);
  t.match(two.resume(token), { kind: 'ok', object: { id: object.id, nodeId: 'node-2' } }, 'taken over');
  t.ok(expired.includes('node-2 saw node-1 expire'));
  t.equal(one.resume(token).kind, 'redirect', 'now node 1 (back) would send it to node 2');
});
