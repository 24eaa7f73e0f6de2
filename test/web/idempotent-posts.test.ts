/**
 * Idempotent posting, as a client sees it: a post carries its own
 * clientMessageId; posting again with it (the answer was lost, the client
 * retries, possibly over the other transport, possibly racing the first) gets
 * the message stored the first time, and the recipient gets it once.
 */
import t from 'tap';
import { ApiClient, befriend, type Frame, makeUsers, startPlatform, WsClient } from '../support/presence.js';

const { platform, url } = await startPlatform(t);
const { alice: aliceId, bob } = await makeUsers(platform, ['alice', 'bob']);
await befriend(platform, [aliceId, bob]);
const alice = await ApiClient.login(url, 'alice');
const bobApi = await ApiClient.login(url, 'bob');
const session = ((await alice.call('POST', '/api/v1/sessions', { invitees: [bob] })).body as { id: string }).id;
await bobApi.call('POST', `/api/v1/sessions/${session}/accept`);
const bobWs = await WsClient.connect(url, bobApi.token);
t.teardown(() => bobWs.close());
const path = `/api/v1/sessions/${session}/messages`;
const history = async () =>
  ((await bobApi.call('GET', `${path}?limit=100`)).body as { messages: { id: string; text: string }[] }).messages;

t.test('over HTTP: 201 the first time, 200 with the same message on a retry, one copy delivered', async (t) => {
  const first = await alice.call('POST', path, { text: 'are you there?', clientMessageId: 'http-1' });
  t.match(first, { status: 201, body: { text: 'are you there?' } });
  const again = await alice.call('POST', path, { text: 'are you there?', clientMessageId: 'http-1' });
  t.equal(again.status, 200, 'a retry is answered 200');
  t.same(again.body, first.body, 'with the message stored the first time (same id, same createdAt)');
  const id = (first.body as { id: string }).id;
  await bobWs.next((f) => f.type === 'message' && (f.message as { id: string }).id === id);
  t.equal((await history()).filter((m) => m.text === 'are you there?').length, 1, 'stored once');

  t.match(
    await alice.call('POST', path, { text: 'something else', clientMessageId: 'http-1' }),
    { status: 409, body: { error: { code: 'PRESENCE_CLIENT_ID_CONFLICT' } } },
    'the same id for another text is refused',
  );
  for (const bad of ['', 'x'.repeat(65), 'has space', 'caf\u00e9'])
    t.equal((await alice.call('POST', path, { text: 'hi', clientMessageId: bad })).status, 400, `${bad}: refused`);
  t.match(await alice.call('POST', path, { text: 'another', clientMessageId: 'http-2' }), { status: 201 });
  t.match(
    await bobApi.call('POST', path, { text: 'mine', clientMessageId: 'http-1' }),
    { status: 201, body: { text: 'mine' } },
    "another sender's id space is their own",
  );
});

t.test('a retry racing the first post stores one message', async (t) => {
  const racing = await Promise.all(
    Array.from({ length: 4 }, () => alice.call('POST', path, { text: 'race', clientMessageId: 'race-1' })),
  );
  t.same(racing.map((r) => r.status).sort(), [200, 200, 200, 201], 'one stored it, the others repeat it');
  t.equal(new Set(racing.map((r) => (r.body as { id: string }).id)).size, 1, 'all name the same message');
  t.equal((await history()).filter((m) => m.text === 'race').length, 1, 'stored once');
});

t.test('over the WebSocket: the ack says isNew, a repeat carries the stored message, delivered once', async (t) => {
  const aliceWs = await WsClient.connect(url, alice.token);
  t.teardown(() => aliceWs.close());
  const frame = { type: 'send', sessionId: session, text: 'by socket', clientMessageId: 'ws-1' };
  const [a1, a2] = (await Promise.all([aliceWs.request(frame), aliceWs.request(frame)])) as [Frame, Frame];
  t.match([a1, a2].map((a) => a.isNew).sort(), [false, true], 'two racing sends: one stored');
  t.same(a1.message, a2.message, 'both acks carry the same message');
  const a3 = await aliceWs.request(frame);
  t.match(a3, { type: 'ack', isNew: false, message: a1.message });
  const id = (a1.message as { id: string }).id;
  await bobWs.next((f) => f.type === 'message' && (f.message as { id: string }).id === id);

  // The HTTP answer was lost: the client retries the same post over the socket.
  const posted = await alice.call('POST', path, { text: 'by either', clientMessageId: 'both-1' });
  const overWs = await aliceWs.request({ ...frame, text: 'by either', clientMessageId: 'both-1' });
  t.match(overWs, { type: 'ack', isNew: false, message: posted.body });
  t.match(await aliceWs.request({ ...frame, text: 'changed' }), {
    type: 'error',
    error: { code: 'PRESENCE_CLIENT_ID_CONFLICT' },
  });
  t.match(await aliceWs.request({ ...frame, clientMessageId: 42 }), {
    type: 'error',
    error: { code: 'PRESENCE_INVALID_INPUT' },
  });

  // Settle: Bob's socket has everything Alice posted, each message once.
  const last = await alice.call('POST', path, { text: 'the end' });
  const lastId = (last.body as { id: string }).id;
  await bobWs.next((f) => f.type === 'message' && (f.message as { id: string }).id === lastId);
  const got = bobWs.messages().map((m) => m.id);
  t.equal(got.length, new Set(got).size, "no message reached Bob's socket twice");
  t.same(
    (await history()).map((m) => m.text).filter((x) => ['by socket', 'by either'].includes(x)),
    ['by socket', 'by either'],
    'each stored once',
  );
});
