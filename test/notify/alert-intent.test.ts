/**
 * A crash between storing a message and opening its alert loses nothing: the
 * message's pending delivery, written in the same transaction, is the alert's
 * intent, and the next start opens the alert (once).
 */
import t from 'tap';
import { buildServices } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { testConfig } from '../support/env.js';
import { startPlatform } from '../support/presence.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

t.test('a message stored with no alert opened still alerts after a restart, and only once', async (t) => {
  const dir = t.testdir({});
  // The process that stored the message and died before its alert: services with no wiring between them.
  // Each restart below is a platform on the same data directory, and so on the same store (on PostgreSQL,
  // the same database: the test store keeps one per data directory).
  const config = testConfig(dir, await testStoreOverrides(dir));
  const store = await openTestStore(config);
  const first = buildServices({ config, log: silentLogger(), ...(store ? { store } : {}) });
  const alice = await first.accounts.createUser({ username: 'alice', displayName: 'Alice', password: 'correct horse' });
  const bob = await first.accounts.createUser({ username: 'bob', displayName: 'Bob', password: 'correct horse' });
  await first.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  const p = first.presence;
  if ((await p.requestContact(alice.id, bob.id)) === 'requested') await p.approveContact(bob.id, alice.id);
  const session = await p.createSession(alice.id, [bob.id]);
  const message = await p.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Are you there?' });
  t.same(await first.notifier.list({ user: 'bob' }), [], 'no alert was opened before the crash');
  await p.stop();
  await first.store.close();

  const restarted = await startPlatform(t, { dir, stopOnTeardown: false });
  const alerts = await restarted.platform.services.notifier.list({ user: 'bob' });
  t.equal(alerts.length, 1, 'the restarted platform opened the alert');
  const shown = await restarted.platform.services.notifier.show(alerts[0]?.id as string);
  t.match(shown.messages, [{ id: message.id, text: 'Are you there?' }]);
  await restarted.platform.stop();

  const again = await startPlatform(t, { dir });
  t.equal(
    (await again.platform.services.notifier.list({ user: 'bob' })).length,
    1,
    'a second restart opens no second alert',
  );
});
