import { join } from 'node:path';
import t from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { MessageCache } from '../../src/presence/message-cache.js';
import { openStore } from '../../src/store/sqlite/db.js';
import { SqliteMessageCommitter } from '../../src/store/sqlite/message-committer.js';

function store(dir: string) {
  const path = join(dir, 'p.sqlite');
  const db = openStore(path);
  db.prepare(
    "INSERT INTO users (id, username, account_number, display_name, spoken_name, created_at) VALUES (1, 'a', '1001', 'A', 'A', 0), (2, 'b', '1002', 'B', 'B', 0)",
  ).run();
  db.prepare("INSERT INTO im_sessions (id, owner_id, created_at) VALUES ('s1', 1, 0)").run();
  return { db, path };
}

const msg = (text: string, sessionId = 's1') => ({
  sessionId,
  fromUserId: 1,
  kind: 'text' as const,
  text,
  audioId: null,
  audioUrl: null,
  recipients: [2],
});

for (const inline of [false, true]) {
  t.test(
    `${inline ? 'inline' : 'writer thread'}: group commit, deliveries riding along, failures, close`,
    async (t) => {
      const { db, path } = store(t.testdir({}));
      t.teardown(() => db.close());
      const cache = new MessageCache({
        committer: new SqliteMessageCommitter({ path, nodeId: 'n1', inline }),
        clock: new SystemClock(),
        maxBatch: 100,
      });
      const stored = await Promise.all(
        Array.from({ length: 250 }, (_, i) => cache.append(msg(`m${i}`)).then((a) => a.message)),
      );
      t.same(
        stored.map((m) => m.text),
        Array.from({ length: 250 }, (_, i) => `m${i}`),
      );
      t.ok(
        cache.stats.batches >= 3 && cache.stats.batches <= 4,
        `250 messages, batches of at most 100: ${cache.stats.batches}`,
      );
      t.equal(cache.stats.largestBatch, 100);
      const rows = db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE state = ?').get('pending') as { n: number };
      t.equal(rows.n, 250, 'a pending delivery row per message');

      const first = Number(stored[0]?.id);
      cache.markDelivered(2, first, 'obj-that-does-not-exist');
      t.ok(cache.isDeliveredUnsettled(2, first), 'visible before its commit');
      t.equal(cache.unsettledCursor('obj-that-does-not-exist'), first);
      const bad = cache.append(msg('to nowhere', 'no-such-session'));
      const good = cache.append(msg('fine'));
      await t.rejects(bad, { code: 'PRESENCE_STORE_FAILED' });
      t.equal((await good).message.text, 'fine');
      t.notOk(cache.isDeliveredUnsettled(2, first), 'settled');
      t.equal(cache.unsettledCursor('obj-that-does-not-exist'), 0);
      t.same(db.prepare('SELECT state FROM deliveries WHERE message_id = ?').get(first), { state: 'delivered' });

      await cache.close();
      await t.rejects(cache.append(msg('late')), { code: 'PRESENCE_CLOSED' });
      t.equal((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 251);
    },
  );

  t.test(`${inline ? 'inline' : 'writer thread'}: a store that cannot be opened rejects, never hangs`, async (t) => {
    // A regular file where a folder should be: the connection cannot be opened.
    const dir = t.testdir({ 'a-file': 'not a folder' });
    const cache = new MessageCache({
      committer: new SqliteMessageCommitter({ path: join(dir, 'a-file', 'p.sqlite'), nodeId: 'n1', inline }),
      clock: new SystemClock(),
    });
    await t.rejects(cache.append(msg('x')), { code: 'PRESENCE_STORE_FAILED' });
    await cache.close();
  });
}
