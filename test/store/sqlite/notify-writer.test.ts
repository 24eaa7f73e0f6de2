/**
 * The notifier's writer thread on a SQLite file: calls asked for together
 * are each answered as if alone (one that throws undoes nothing of the
 * others), and what a call wrote is on the file, for any connection, by the
 * time it resolves.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import type { UnreachableMessage } from '../../../src/notify/types.js';
import { openSqliteStore } from '../../../src/store/sqlite/index.js';

const NOW = 1_764_400_000_000;

const message = (id: string, from: number): UnreachableMessage => ({
  id,
  sessionId: 's1',
  fromUserId: from,
  fromName: 'Alice',
  fromSpokenName: 'Alice',
  text: `message ${id}`,
  at: NOW,
});

const email = (address: string) => ({
  channel: 'email' as const,
  deviceId: 1,
  protocol: null,
  address,
  waitMs: 0,
  quietStart: null,
  quietEnd: null,
});

async function setup(t: Test) {
  const path = join(t.testdir({}), 'phoneim.sqlite');
  const store = openSqliteStore({ path, nodeId: 'node-a' });
  t.teardown(() => store.close());
  const user = (n: number) =>
    store.accounts.insertUser({
      username: `user${n}`,
      accountNumber: String(100_000 + n),
      displayName: `User ${n}`,
      spokenName: `User ${n}`,
      timeZone: 'UTC',
      createdAt: NOW,
      credentials: [],
      callerIds: [],
    });
  const [alice, ...recipients] = await Promise.all([0, 1, 2, 3].map(user));
  /** Reads the file on a connection of its own, as another process would after a crash. */
  const rows = (sql: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  };
  return { store, alice: alice as NonNullable<typeof alice>, recipients, rows };
}

const open = (id: string, recipientId: number, from: number) => ({
  alert: { id, recipientId, isTest: false, createdAt: NOW, collectUntil: NOW },
  message: message(`m-${id}`, from),
  now: NOW,
});

t.test('calls asked for together: each answered as if alone; a call that throws undoes no other', async (t) => {
  const { store, alice, recipients, rows } = await setup(t);
  const [r1, r2, r3] = recipients.map((r) => r.id) as [number, number, number];
  // Not awaited one by one: they reach the writer together and share its commit.
  const [a, broken, b, c] = await Promise.allSettled([
    store.notify.foldMessages([open('al1', r1, alice.id)]),
    store.notify.startAlerts(null as never, NOW),
    store.notify.foldMessages([open('al2', r2, alice.id), open('al-nobody', 999_999, alice.id)]),
    store.notify.foldMessages([open('al3', r3, alice.id)]),
  ]);
  t.same(a, { status: 'fulfilled', value: [{ status: 'fulfilled', value: { alertId: 'al1', folded: false } }] });
  t.equal(broken.status, 'rejected', 'a call that throws is answered with its error');
  t.match(b, {
    status: 'fulfilled',
    value: [
      { status: 'fulfilled', value: { alertId: 'al2' } },
      { status: 'rejected', reason: Error },
    ],
  });
  t.match(c, { status: 'fulfilled', value: [{ status: 'fulfilled', value: { alertId: 'al3' } }] });
  t.same(
    rows('SELECT id FROM notify_alerts ORDER BY id'),
    [{ id: 'al1' }, { id: 'al2' }, { id: 'al3' }],
    'on the file: every alert of the calls that stood, none of the refused one',
  );
});

t.test(
  'a claim asked for right behind a ladder start sees its steps; both on the file when they resolve',
  async (t) => {
    const { store, alice, recipients, rows } = await setup(t);
    const r1 = (recipients[0] as { id: number }).id;
    await store.notify.foldMessages([open('al1', r1, alice.id)]);
    const starting = store.notify.startAlerts([{ id: 'al1', steps: [email('a@example.test')], emptyReason: 'x' }], NOW);
    const claiming = store.notify.claimDueSteps('node-a', NOW, 10);
    t.same(await starting, [{ status: 'fulfilled', value: true }]);
    t.match(await claiming, [{ alertId: 'al1', position: 1, state: 'in-progress', attempts: 1 }]);
    t.same(rows('SELECT state, node_id FROM notify_steps'), [{ state: 'in-progress', node_id: 'node-a' }]);
    t.same(await store.notify.claimDueSteps('node-a', NOW, 10), [], 'claimed once');
  },
);

t.test('once the store is closed, the writer answers every call with an error', async (t) => {
  const { store, alice, recipients } = await setup(t);
  await store.notify.foldMessages([open('al1', (recipients[0] as { id: number }).id, alice.id)]);
  await store.close();
  await t.rejects(store.notify.claimDueSteps('node-a', NOW, 10), /closed/);
});
