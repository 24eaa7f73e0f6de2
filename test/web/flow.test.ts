/**
 * Flows across two kinds of client, read as transcripts: Alice uses the thin
 * HTML client (forms, no JavaScript), Bob a rich client (JSON API + WebSocket).
 */
import t from 'tap';
import { PresenceEventRecorder } from '../../src/presence/event-recorder.js';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform, until, WsClient } from '../support/presence.js';

t.test(
  'Alice (web) invites Bob (WebSocket); Bob drops, comes back with his token and gets what he missed once',
  async (t) => {
    const { platform, url } = await startPlatform(t);
    const presence = platform.services.presence;
    const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
    await befriend(platform, [alice, bob]);
    const notifier = new PresenceEventRecorder(presence);

    // Bob logs in from his rich client and opens the WebSocket.
    const bobApi = await ApiClient.login(url, 'bob');
    let bobWs = await WsClient.connect(url, bobApi.token);
    // The hello comes as the link opens; on PostgreSQL its row may be stored a moment later.
    await until(async () => (await presence.presenceOf(bob)).state === 'online');
    t.equal((await presence.presenceOf(bob)).state, 'online', 'Bob shows online');

    // Alice logs in on the web and sees Bob online on her buddy list.
    const alicePage = new HtmlClient(url);
    const buddies = await alicePage.login('alice');
    t.match(
      buddies,
      /<span class="name">Bob<\/span> \(bob\) <span class="presence" data-presence-user="\d+">online<\/span>/,
    );

    // Alice presses "Chat" next to Bob: a session, and Bob is invited.
    await alicePage.post('/chat/new', { contactId: String(bob) });
    const sessionId = /data-session="([^"]+)"/.exec(alicePage.page)?.[1] as string;
    t.ok(sessionId, 'Alice is on the chat page');
    t.match(alicePage.page, /Chat with Bob \(invited\)/);
    const invite = await bobWs.next((f) => f.type === 'invite');
    t.match(invite, { session: { id: sessionId }, inviterId: alice });

    // Bob accepts.
    const accepted = await bobApi.call('POST', `/api/v1/sessions/${sessionId}/accept`);
    t.equal(accepted.status, 200);
    t.match(accepted.body, {
      members: [
        { username: 'alice', state: 'joined' },
        { username: 'bob', state: 'joined' },
      ],
    });

    // Alice sends "hi"; Bob receives it.
    await alicePage.post(`/chat/${sessionId}/send`, { text: 'hi' });
    t.match(alicePage.page, /<b class="from">You:<\/b> <span class="text">hi<\/span>/, 'Alice sees her own line');
    const [hi] = await bobWs.waitMessages(1);
    t.equal(hi?.text, 'hi');
    t.same(notifier.unreachable, [], 'nobody was unreachable');

    // Bob's connection drops.
    bobWs.ws.terminate();
    await until(() => presence.linksOf(bob).length === 0);
    t.equal((await presence.presenceOf(bob)).state, 'offline', 'Bob shows offline');

    // Alice sends two more; the notifier hears that Bob is unreachable for each.
    await alicePage.post(`/chat/${sessionId}/send`, { text: 'are you there?' });
    await alicePage.post(`/chat/${sessionId}/send`, { text: 'call me' });
    t.same(notifier.unreachableFor(bob), ['are you there?', 'call me']);

    // Bob reconnects with his token: both, in order, once (and not "hi" again).
    bobWs = await WsClient.connect(url, bobApi.token);
    t.teardown(() => bobWs.close());
    const got = await bobWs.waitMessages(2);
    await new Promise((r) => setTimeout(r, 100));
    t.same(
      bobWs.messages().map((m) => m.text),
      ['are you there?', 'call me'],
    );
    t.ok(Number(got[0]?.id) < Number(got[1]?.id), 'in commit order');
    t.equal(notifier.linkOpened.filter((e) => e.userId === bob).length, 2, 'the notifier saw Bob come back');

    // Bob reads them; Alice's next page shows the conversation in order.
    const read = await bobApi.call('POST', '/api/v1/read', { messageIds: got.map((m) => m.id) });
    t.same(
      (read.body as { read: string[] }).read,
      got.map((m) => m.id),
    );
    t.same(notifier.read.at(-1), { userId: bob, messageIds: got.map((m) => m.id) });
    await alicePage.get(`/chat/${sessionId}`);
    const lines = [...alicePage.page.matchAll(/<span class="text">([^<]*)<\/span>/g)].map((m) => m[1]);
    t.same(lines, ['hi', 'are you there?', 'call me']);
  },
);

t.test('a three-party chat keeps working when one member drops and another leaves', async (t) => {
  const { platform, url } = await startPlatform(t);
  const presence = platform.services.presence;
  const users = await makeUsers(platform, ['alice', 'bob', 'carol']);
  const { alice, bob, carol } = users;
  await befriend(platform, [alice, bob, carol]);
  const notifier = new PresenceEventRecorder(presence);
  const clients = await Promise.all(['alice', 'bob', 'carol'].map((n) => ApiClient.login(url, n)));
  const [aApi, bApi, cApi] = clients as [ApiClient, ApiClient, ApiClient];
  const sockets = await Promise.all(clients.map((c) => WsClient.connect(url, c.token)));
  const [aWs, bWs, cWs] = sockets as [WsClient, WsClient, WsClient];
  t.teardown(() => Promise.all(sockets.map((s) => s.close())));

  // Alice starts a chat with Bob and Carol; both accept.
  const created = await aApi.call('POST', '/api/v1/sessions', { invitees: ['bob', 'carol'] });
  t.equal(created.status, 201);
  const id = (created.body as { id: string }).id;
  await bApi.call('POST', `/api/v1/sessions/${id}/accept`);
  await cApi.call('POST', `/api/v1/sessions/${id}/accept`);

  // Alice says "hello all" over her socket: ack after commit, both others get it.
  const ack = await aWs.request({ type: 'send', sessionId: id, text: 'hello all' });
  t.match(ack, { type: 'ack', message: { text: 'hello all', sessionId: id } });
  t.equal((await bWs.waitMessages(1))[0]?.text, 'hello all');
  t.equal((await cWs.waitMessages(1))[0]?.text, 'hello all');
  const states = await presence.deliveryStates((ack.message as { id: string }).id);
  t.same(
    states.map((s) => s.state),
    ['delivered', 'delivered'],
  );

  // Carol's socket drops; Bob replies; Alice still gets it, Carol's copy waits.
  cWs.ws.terminate();
  await until(() => presence.linksOf(carol).length === 0);
  const reply = await bWs.request({ type: 'send', sessionId: id, text: 'hi Alice' });
  t.same(
    (await aWs.waitMessages(1)).map((m) => m.text),
    ['hi Alice'],
    'Alice got it (her own line came back as an ack, not a copy)',
  );
  t.same(notifier.unreachableFor(carol), ['hi Alice']);
  t.same(await presence.deliveryStates((reply.message as { id: string }).id), [
    { recipientId: alice, state: 'delivered' },
    { recipientId: carol, state: 'pending' },
  ]);

  // Bob leaves: he stops receiving; Alice and Carol's chat goes on.
  const left = await bApi.call('POST', `/api/v1/sessions/${id}/leave`);
  t.match(left.body, { members: [{}, { username: 'bob', state: 'left' }, {}] });
  const after = await aWs.request({ type: 'send', sessionId: id, text: 'just us now' });
  t.same(
    (await presence.deliveryStates((after.message as { id: string }).id)).map((d) => d.recipientId),
    [carol],
  );
  const bobSend = await bWs.request({ type: 'send', sessionId: id, text: 'wait' });
  t.match(bobSend, { type: 'error', error: { code: 'PRESENCE_NOT_MEMBER' } });
  const unread = (await cApi.call('GET', '/api/v1/unread')).body as { messages: { text: string }[] };
  t.same(
    unread.messages.map((m) => m.text),
    ['hello all', 'hi Alice', 'just us now'],
    'Carol has not read any of it yet',
  );
  const back = await WsClient.connect(url, cApi.token);
  t.same(
    (await back.waitMessages(2)).map((m) => m.text),
    ['hi Alice', 'just us now'],
    'Carol comes back and is given the two she missed',
  );
  await back.close();
});
