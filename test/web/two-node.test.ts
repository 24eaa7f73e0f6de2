/**
 * Two nodes of one community sharing one SQLite file. Bob's session object
 * lives on node 1; his client reaches node 2 and is redirected there; node 1
 * stops; after its lease lapses node 2 takes Bob's session object over and
 * Bob carries on. Time is the injected clock: no sleeping through leases.
 */
import t from 'tap';
import { ManualClock } from '../../src/core/clock.js';
import { PresenceEventRecorder } from '../../src/presence/event-recorder.js';
import {
  ApiClient,
  befriend,
  HtmlClient,
  makeUsers,
  PASSWORD,
  startPlatform,
  until,
  WsClient,
} from '../support/presence.js';

t.test('redirect to the node that holds the session object, and take-over after its lease', async (t) => {
  const dir = t.testdir({});
  const clock = new ManualClock(Date.now());
  const leaseSeconds = 15;
  const n1 = await startPlatform(t, { dir, clock, overrides: { presence: { nodeId: 'node-1', leaseSeconds } } });
  const n2 = await startPlatform(t, { dir, clock, overrides: { presence: { nodeId: 'node-2', leaseSeconds } } });
  const { alice, bob } = await makeUsers(n1.platform, ['alice', 'bob']);
  await befriend(n1.platform, [alice, bob]);

  // Bob logs in on node 1: his session object lives there. Alice uses node 2.
  const bobOn1 = await ApiClient.login(n1.url, 'bob');
  const aliceOn2 = await ApiClient.login(n2.url, 'alice');
  const aliceWs = await WsClient.connect(n2.url, aliceOn2.token);
  t.teardown(() => aliceWs.close());
  const id = ((await aliceOn2.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string }).id;

  // Bob's client reaches node 2 with his token: 307 to node 1, same path.
  const bobOn2 = new ApiClient(n2.url);
  bobOn2.token = bobOn1.token;
  const redirected = await bobOn2.call('POST', `/api/v1/sessions/${id}/accept`);
  t.equal(redirected.status, 307);
  t.equal(redirected.location, `${n1.url}/api/v1/sessions/${id}/accept`);
  t.equal(
    (await n2.platform.services.presence.session(id, bob)).members[1]?.state,
    'invited',
    'node 2 did nothing itself',
  );
  // A client follows it (fetch drops the bearer header across origins, so a client re-sends it).
  const location = new URL(redirected.location as string);
  const follower = new ApiClient(location.origin);
  follower.token = bobOn1.token;
  const followed = await follower.call('POST', location.pathname);
  t.equal(followed.status, 200, 'node 1 serves it');
  t.match(followed.body, { members: [{}, { username: 'bob', state: 'joined' }] });
  const page = await fetch(`${n2.url}/buddies`, { headers: { cookie: `sid=${bobOn1.token}` }, redirect: 'manual' });
  t.equal(page.status, 307, 'the thin client is redirected too');
  t.equal(page.headers.get('location'), `${n1.url}/buddies`);

  // A log-in form served by node 1 may be posted to node 2 (the form's key is shared); it is the same browser
  // behind one public address, so it brings the pre-session cookie node 1 gave it.
  const formOn1 = new HtmlClient(n1.url);
  await formOn1.get('/login');
  const csrf = formOn1.csrf();
  const onto2 = new HtmlClient(n2.url);
  onto2.cookie = formOn1.cookie;
  await onto2.post('/login', { username: 'alice', password: PASSWORD }, { csrf });
  t.match(onto2.page, /<h1>Buddies of Alice<\/h1>/);

  // Bob's WebSocket to node 2 is redirected to node 1 and opens there.
  let bobWs = await WsClient.connect(n2.url, bobOn1.token, { followRedirects: true });
  t.equal(n1.platform.services.presence.linksOf(bob).length, 1, 'Bob’s link is on node 1');
  t.equal(n2.platform.services.presence.linksOf(bob).length, 0);

  // A message from Alice (node 2) reaches Bob (node 1): node 1 routes what node 2 committed.
  await aliceWs.request({ type: 'send', sessionId: id, text: 'across nodes' });
  clock.advance(300);
  t.same(
    (await bobWs.waitMessages(1)).map((m) => m.text),
    ['across nodes'],
  );
  t.equal((await n2.platform.services.presence.contacts(alice))[0]?.presence.state, 'online', 'node 2 sees Bob online');

  // Alice (node 2) goes away: Bob's socket on node 1 hears it.
  await aliceWs.request({ type: 'presence', state: 'away', statusText: 'coffee' });
  clock.advance(300);
  const heard = await bobWs.next(
    (f) =>
      f.type === 'presence' &&
      (f.presence as { userId: number }).userId === alice &&
      (f.presence as { state: string }).state === 'away',
  );
  t.match(heard, { presence: { statusText: 'coffee' } }, 'presence crosses nodes');
  // Node 2 told node 1 of the message before the presence: whatever node 1 had to give Bob, it has given.
  t.same(
    bobWs.messages().map((m) => m.text),
    ['across nodes'],
    'the message across nodes, once',
  );

  // Node 1 stops (as if it died). Bob's client drops with it.
  await n1.platform.stop();
  await until(() => bobWs.ws.readyState === bobWs.ws.CLOSED);
  const recorder = new PresenceEventRecorder(n2.platform.services.presence);
  const waiting = await aliceWs.request({ type: 'send', sessionId: id, text: 'still there?' });
  t.equal(waiting.type, 'ack', 'Alice’s message is stored while Bob is away');

  // Within the lease node 2 still sends Bob to node 1.
  clock.advance((leaseSeconds - 5) * 1000);
  t.equal((await bobOn2.call('GET', '/api/v1/sessions')).status, 307);

  // After the lease node 2 takes over: Bob's session object, his sessions, his waiting message.
  clock.advance(10_000);
  const mine = await bobOn2.call('GET', '/api/v1/sessions');
  t.equal(mine.status, 200, 'node 2 serves Bob now');
  t.match(mine.body, { sessions: [{ id, members: [{ username: 'alice' }, { username: 'bob', state: 'joined' }] }] });
  bobWs = await WsClient.connect(n2.url, bobOn1.token);
  t.teardown(() => bobWs.close());
  t.same(
    (await bobWs.waitMessages(1)).map((m) => m.text),
    ['still there?'],
    'the waiting message, once',
  );
  t.same(
    recorder.linkOpened.map((e) => e.userId),
    [bob],
  );
  const reply = await bobWs.request({ type: 'send', sessionId: id, text: 'back, on node 2' });
  t.equal(reply.type, 'ack');
  t.same(
    (await aliceWs.waitMessages(1)).map((m) => m.text),
    ['back, on node 2'],
    'the conversation continues',
  );
  t.equal((await bobOn2.call('GET', '/api/v1/me')).status, 200, 'no more redirects');
});
