/**
 * A node keeps the tokens it has resolved in memory (web/auth.ts), yet a
 * token that has ended is refused by the very next request, on every node:
 * two nodes of one community (one SQLite file, or one PostgreSQL database
 * with PHONEIM_TEST_STORE=postgres) and the admin command on its own
 * connection to the store. No waiting: each refusal is the first request
 * after the answer that ended the token.
 */
import t from 'tap';
import { buildServices } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { testConfig } from '../support/env.js';
import { ApiClient, HtmlClient, makeUsers, PASSWORD, startPlatform, WsClient } from '../support/presence.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

const me = async (c: ApiClient) => {
  const r = await c.call('GET', '/api/v1/me');
  return { status: r.status, name: (r.body as { user?: { displayName?: string } }).user?.displayName };
};

t.test('a token ended on one node, or by the admin command, is refused at once on every node', async (t) => {
  const dir = t.testdir({});
  const n1 = await startPlatform(t, { dir, overrides: { presence: { nodeId: 'node-1' } } });
  const n2 = await startPlatform(t, { dir, overrides: { presence: { nodeId: 'node-2' } } });
  await makeUsers(n1.platform, ['bob']);

  // Bob's phone app and tablet are logged in on node 1, his desk computer and a browser on node 2.
  const phone = await ApiClient.login(n1.url, 'bob');
  const tablet = await ApiClient.login(n1.url, 'bob');
  const desk = await ApiClient.login(n2.url, 'bob');
  const browser = new HtmlClient(n2.url);
  await browser.login('bob');
  // Each is served, then served again (now from its node's memory).
  for (const c of [phone, tablet, desk, phone, tablet, desk]) t.match(await me(c), { status: 200, name: 'Bob' });

  // The phone logs out on node 1: its next request there is refused, and node 2 does not take it either.
  t.equal((await phone.call('POST', '/api/v1/logout')).status, 204);
  t.equal((await me(phone)).status, 401, 'refused on the node that logged it out');
  const phoneOn2 = new ApiClient(n2.url);
  phoneOn2.token = phone.token;
  t.equal((await me(phoneOn2)).status, 401, 'refused on the other node');

  // Node 1 gives Bob a new name; node 2 shows it on the next request.
  await n1.platform.services.accounts.updateUser('bob', { displayName: 'Robert' });
  t.match(await me(desk), { status: 200, name: 'Robert' }, 'a change on node 1 is seen on node 2 at once');

  // Bob changes his password from the tablet on node 1: his desk and browser on node 2 are refused at once.
  t.match(await tablet.call('POST', '/api/v1/password', { currentPassword: PASSWORD, newPassword: 'a new secret' }), {
    status: 200,
    body: { endedSessions: 2 },
  });
  t.equal((await me(desk)).status, 401, "the desk's token is refused on node 2");
  await browser.get('/buddies');
  t.match(browser.url, /\/login$/, "the browser's page on node 2 sends it to log in");
  t.equal((await me(tablet)).status, 200, 'the tablet that changed it goes on');

  // An operator ends every session of Carol with the admin command, on its own connection to the store.
  await makeUsers(n1.platform, ['carol']);
  const on1 = await ApiClient.login(n1.url, 'carol');
  const on2 = await ApiClient.login(n2.url, 'carol');
  for (const c of [on1, on2, on1, on2]) t.equal((await me(c)).status, 200);

  // phonectl's way: the services over a connection of their own to the same store.
  const config = testConfig(dir, await testStoreOverrides(dir));
  const store = await openTestStore(config);
  const admin = buildServices({ config, log: silentLogger(), ...(store ? { store } : {}) });
  t.teardown(async () => {
    await admin.presence.stop();
    await admin.store.close();
  });
  const carol = await admin.accounts.getUser('carol');
  t.equal((await admin.presence.objects.endAllOf(carol.id)).length, 2);
  t.equal((await me(on1)).status, 401, 'refused on node 1');
  t.equal((await me(on2)).status, 401, 'refused on node 2');
  t.equal((await me(await ApiClient.login(n2.url, 'carol'))).status, 200, 'a new log-in works');
});

t.test('a WebSocket whose session ends on another node is cut within seconds; the others stay', async (t) => {
  const dir = t.testdir({});
  const n1 = await startPlatform(t, { dir, overrides: { presence: { nodeId: 'node-1' } } });
  const n2 = await startPlatform(t, { dir, overrides: { presence: { nodeId: 'node-2' } } });
  await makeUsers(n1.platform, ['bob']);
  // Bob's phone app holds a WebSocket on node 1; he changes his password from his desk on node 2.
  const phone = await ApiClient.login(n1.url, 'bob');
  const phoneWs = await WsClient.connect(n1.url, phone.token);
  const desk = await ApiClient.login(n2.url, 'bob');
  const deskWs = await WsClient.connect(n2.url, desk.token);
  const closed = new Promise<number>((resolve) => phoneWs.ws.once('close', (code) => resolve(code)));
  t.match(await desk.call('POST', '/api/v1/password', { currentPassword: PASSWORD, newPassword: 'a new secret' }), {
    status: 200,
    body: { endedSessions: 1 },
  });
  // 4001, not a ping's cut (1006, and only after 30 s): node 1 saw the end that node 2 committed.
  t.equal(await closed, 4001, "the phone's socket on node 1 is cut: its session has ended");
  t.equal(deskWs.ws.readyState, deskWs.ws.OPEN, 'the desk that changed it keeps its socket');
  deskWs.ws.send(JSON.stringify({ type: 'ping', ref: 1 }));
  t.match(await deskWs.next((f) => f.type === 'pong'), { ref: 1 });
  await deskWs.close();
});
