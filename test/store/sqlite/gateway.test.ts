/** The gateway's store on SQLite: contacts, roster, sessions, an outbox that queues each stanza id once, status. */
import { join } from 'node:path';
import t from 'tap';
import { openSqliteStore, type SqliteStore } from '../../../src/store/index.js';

t.test('the gateway store keeps what the gateway needs across a reopen', async (t) => {
  const path = join(t.testdir({}), 'db.sqlite');
  const open = () => openSqliteStore({ path, nodeId: 'node-1', inlineMessageWriter: true });
  let opened: SqliteStore = open();
  let db = opened.db;
  const user = (id: number, name: string) =>
    db
      .prepare(
        'INSERT INTO users (id, username, account_number, display_name, spoken_name, created_at) VALUES (?, ?, ?, ?, ?, 0)',
      )
      .run(id, name, String(1000 + id), name, name);
  user(1, 'alice');
  user(2, 'x-dave');
  db.prepare("INSERT INTO im_sessions (id, owner_id, created_at) VALUES ('s1', 2, 0)").run();
  let store = opened.gateway;

  t.equal(await store.contactUser('dave@example.test'), null);
  await store.addContact('dave@example.test', 2, 10);
  await store.addContact('dave@example.test', 2, 11);
  t.equal(await store.contactUser('dave@example.test'), 2);
  t.equal(await store.contactJid(2), 'dave@example.test');
  t.equal(await store.contactJid(1), null, 'a local user is no contact');

  t.equal(await store.rosterState(2, 1), null);
  await store.setRoster(2, 1, 'asked', 10);
  t.equal(await store.rosterState(2, 1), 'asked');
  await store.setRoster(2, 1, 'approved', 11);
  t.same(await store.approvedRoster(), [{ contactUserId: 2, localUserId: 1 }]);

  await store.setSession(2, 1, 's1', 12);
  t.equal(await store.sessionOf(2, 1), 's1');
  t.equal(await store.sessionOf(1, 2), null);

  const m = { stanzaId: 'm7-2', from: 'alice@phone.example.test', to: 'dave@example.test', body: 'hi' };
  t.equal(await store.enqueue(m, 20), true);
  t.equal(await store.enqueue({ ...m, body: 'again' }, 21), false, 'the same stanza id is queued once');
  t.equal(await store.enqueue({ ...m, stanzaId: 'm8-2', oobUrl: 'http://127.0.0.1/a.wav' }, 22), true);
  const unsent = await store.unsent(10);
  t.same(
    unsent.map((s) => [s.stanzaId, s.body, s.oobUrl]),
    [
      ['m7-2', 'hi', undefined],
      ['m8-2', 'hi', 'http://127.0.0.1/a.wav'],
    ],
  );
  await store.markSent(unsent[0]?.seq as number, 30);
  t.equal(await store.enqueue(m, 31), false, 'a sent stanza is not queued again');
  t.same(await store.counts(), { queued: 1, sent: 1, contacts: 1, approved: 1 });

  await store.setStatus({
    nodeId: 'node-1',
    domain: 'phone.example.test',
    state: 'online',
    since: 5,
    connects: 1,
    lastError: null,
    updatedAt: 6,
  });
  await store.setStatus({
    nodeId: 'node-1',
    domain: 'phone.example.test',
    state: 'waiting',
    since: 7,
    connects: 1,
    lastError: 'connection refused',
    updatedAt: 8,
  });

  await opened.close();
  opened = open();
  db = opened.db;
  t.teardown(() => opened.close());
  store = opened.gateway;
  t.same(
    (await store.unsent(10)).map((s) => s.stanzaId),
    ['m8-2'],
    'the queue survives a restart',
  );
  t.match(await store.statuses(), [
    { nodeId: 'node-1', state: 'waiting', lastError: 'connection refused', connects: 1 },
  ]);
  await store.removeRoster(2, 1);
  t.equal(await store.rosterState(2, 1), null);
  db.prepare('DELETE FROM users WHERE id = 2').run();
  t.same(await store.contacts(), [], 'a removed shadow account takes its contact, roster and sessions with it');
});
