/** The JSON API and the WebSocket against bad input: a clear coded error, and nothing half-written. */
import t from 'tap';
import WebSocket from 'ws';
import { ApiClient, befriend, makeUsers, startPlatform, WsClient } from '../support/presence.js';
import { storedMessages } from '../support/store.js';

t.test('the JSON API: log-in, contacts, presence, sessions, and its OpenAPI document', async (t) => {
  const { platform, url } = await startPlatform(t);
  await makeUsers(platform, ['alice', 'bob', 'carol']);
  const doc = await fetch(`${url}/api/v1/openapi.json`);
  t.equal(doc.status, 200);
  const spec = (await doc.json()) as { openapi: string; paths: Record<string, unknown> };
  t.equal(spec.openapi, '3.1.0');
  for (const p of ['/api/v1/login', '/api/v1/sessions/{id}/messages', '/api/v1/contacts', '/api/v1/read'])
    t.ok(spec.paths[p], `documents ${p}`);

  const anon = new ApiClient(url);
  t.match(await anon.call('GET', '/api/v1/me'), { status: 401, body: { error: { code: 'WEB_UNAUTHORIZED' } } });
  t.match(await anon.call('POST', '/api/v1/login', { username: 'alice', password: 'wrong password' }), {
    status: 401,
    body: { error: { code: 'ACCOUNTS_BAD_CREDENTIALS' } },
  });
  t.match(await anon.call('POST', '/api/v1/login', { username: 'alice' }), {
    status: 400,
    body: { error: { code: 'WEB_BAD_REQUEST' } },
  });
  const alice = await ApiClient.login(url, 'alice');
  const bob = await ApiClient.login(url, 'bob');
  t.match(await alice.call('GET', '/api/v1/me'), { status: 200, body: { user: { username: 'alice' } } });

  t.match(await alice.call('POST', '/api/v1/contacts', { username: 'bob' }), { body: { subscription: 'requested' } });
  t.match(await bob.call('GET', '/api/v1/contacts'), { body: { requests: [{ username: 'alice' }] } });
  t.match(await bob.call('POST', '/api/v1/contacts/alice/approve'), {
    status: 200,
    body: { contacts: [{ username: 'alice', subscription: 'approved' }] },
  });
  t.match(await alice.call('POST', '/api/v1/contacts', { username: 'carol' }), { body: { subscription: 'requested' } });
  const carol = await ApiClient.login(url, 'carol');
  t.equal((await carol.call('POST', '/api/v1/contacts/alice/decline')).status, 204);
  t.match(
    await alice.call('PUT', '/api/v1/presence', { state: 'busy', statusText: 'in a meeting' }),
    {
      body: { state: 'offline', statusText: null },
    },
    'no link open: Alice shows offline, whatever she chose',
  );
  const aliceWs = await WsClient.connect(url, alice.token);
  t.teardown(() => aliceWs.close());
  t.match(await bob.call('GET', '/api/v1/contacts'), {
    body: { contacts: [{ username: 'alice', presence: { state: 'busy', statusText: 'in a meeting' } }] },
  });
  t.match(await alice.call('PUT', '/api/v1/presence', { state: 'sleepy' }), {
    status: 400,
    body: { error: { code: 'PRESENCE_INVALID_INPUT' } },
  });

  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const id = (created.body as { id: string }).id;
  t.match(await bob.call('GET', '/api/v1/sessions'), {
    body: { sessions: [{ id, members: [{}, { state: 'invited' }] }] },
  });
  t.match(await bob.call('GET', `/api/v1/sessions/${id}`), { status: 200, body: { id } });
  t.equal((await bob.call('POST', `/api/v1/sessions/${id}/accept`)).status, 200);
  const sent = await alice.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'hello' });
  t.match(sent, { status: 201, body: { text: 'hello', sessionId: id } });
  const msgId = (sent.body as { id: string }).id;
  t.match(await bob.call('GET', `/api/v1/sessions/${id}/messages?limit=10`), { body: { messages: [{ id: msgId }] } });
  t.match(await bob.call('GET', `/api/v1/sessions/${id}/messages?after=${msgId}`), { body: { messages: [] } });
  t.match(await bob.call('GET', `/api/v1/unread?session=${id}`), { body: { messages: [{ id: msgId }] } });
  t.match(await bob.call('POST', '/api/v1/read', { messageIds: [msgId] }), { body: { read: [msgId] } });
  t.match(await bob.call('POST', `/api/v1/sessions/${id}/invite`, { username: 'carol' }), {
    status: 403,
    body: { error: { code: 'PRESENCE_NOT_CONTACT' } },
  });
  t.equal((await alice.call('DELETE', '/api/v1/contacts/bob')).status, 204);
  t.match(await bob.call('POST', `/api/v1/sessions/${id}/leave`), { body: { members: [{}, { state: 'left' }] } });
  t.equal((await bob.call('POST', '/api/v1/logout')).status, 204);
  t.match(await bob.call('GET', '/api/v1/me'), { status: 401 }, 'the token is gone after log-out');
});

t.test('bad input gets a clear coded error and writes nothing', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { presence: { maxMessageBytes: 100 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob', 'carol']);
  await befriend(platform, [alice, bob]);
  const a = await ApiClient.login(url, 'alice');
  const c = await ApiClient.login(url, 'carol');
  const id = ((await a.call('POST', '/api/v1/sessions', { invitees: [bob] })).body as { id: string }).id;
  // Messages and deliveries in the whole community, through the store's port (either backend).
  const count = async () => {
    const stored = await storedMessages(platform.services.store);
    return stored.length + stored.reduce((n, m) => n + m.deliveries.length, 0);
  };
  const cases: [string, Promise<{ status: number; body: unknown }>, number, string][] = [
    [
      'malformed JSON',
      a.call('POST', `/api/v1/sessions/${id}/messages`, undefined, { raw: '{"text": "hi"' }),
      400,
      'WEB_BAD_REQUEST',
    ],
    [
      'a JSON array',
      a.call('POST', `/api/v1/sessions/${id}/messages`, undefined, { raw: '["hi"]' }),
      400,
      'WEB_BAD_REQUEST',
    ],
    [
      'an unknown session',
      a.call('POST', '/api/v1/sessions/no-such-session/messages', { text: 'hi' }),
      404,
      'PRESENCE_SESSION_NOT_FOUND',
    ],
    [
      'a message over the limit',
      a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'x'.repeat(101) }),
      413,
      'PRESENCE_MESSAGE_TOO_LARGE',
    ],
    [
      'a body over the HTTP limit',
      a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'x'.repeat(2 * 1024 * 1024) }),
      413,
      'WEB_PAYLOAD_TOO_LARGE',
    ],
    [
      'sending where one is not a member',
      c.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'let me in' }),
      404,
      'PRESENCE_SESSION_NOT_FOUND',
    ],
    [
      'sending while only invited',
      (async () => {
        const b = await ApiClient.login(url, 'bob');
        return b.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'early' });
      })(),
      403,
      'PRESENCE_NOT_MEMBER',
    ],
    ['no text', a.call('POST', `/api/v1/sessions/${id}/messages`, {}), 400, 'PRESENCE_INVALID_INPUT'],
    ['invitees not a list', a.call('POST', '/api/v1/sessions', { invitees: 'bob' }), 400, 'PRESENCE_INVALID_INPUT'],
    [
      'an unknown invitee',
      a.call('POST', '/api/v1/sessions', { invitees: ['nobody'] }),
      404,
      'PRESENCE_USER_NOT_FOUND',
    ],
    [
      'a bad message id',
      a.call('POST', '/api/v1/read', { messageIds: ['1; DROP TABLE messages'] }),
      400,
      'PRESENCE_INVALID_INPUT',
    ],
    ['an unknown route', a.call('GET', '/api/v1/nothing'), 404, 'WEB_NOT_FOUND'],
  ];
  for (const [what, p, status, code] of cases) {
    const r = await p;
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(r.body, { error: { code, message: String } }, `${what}: ${code}`);
  }
  t.equal(await count(), 0, 'nothing was written');
  t.same(
    ((await a.call('GET', `/api/v1/sessions/${id}/messages`)).body as { messages: unknown[] }).messages,
    [],
    'Alice sees no message in the session',
  );

  // A cookie-borne token may read through the API but not change anything (CSRF).
  const viaCookie = await fetch(`${url}/api/v1/sessions/${id}/messages`, {
    method: 'POST',
    headers: { cookie: `sid=${a.token}`, 'content-type': 'text/plain' },
    body: JSON.stringify({ text: 'forged' }),
  });
  t.equal(viaCookie.status, 403);
  t.match(await viaCookie.json(), { error: { code: 'WEB_CSRF_FAILED' } });
  const read = await fetch(`${url}/api/v1/sessions/${id}/messages`, { headers: { cookie: `sid=${a.token}` } });
  t.equal(read.status, 200);
  t.same(((await read.json()) as { messages: unknown[] }).messages, [], 'the forged post is not in the session');
  t.equal(await count(), 0);
});

t.test('the WebSocket: bad frames get error frames; bad tokens and foreign origins are refused', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { presence: { maxMessageBytes: 100 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const a = await ApiClient.login(url, 'alice');
  const id = ((await a.call('POST', '/api/v1/sessions', { invitees: [bob] })).body as { id: string }).id;
  const ws = await WsClient.connect(url, a.token);
  t.teardown(() => ws.close());
  t.match(ws.frames[0], { type: 'hello', username: 'alice' });

  ws.ws.send('{not json');
  t.match(await ws.next((f) => f.type === 'error'), { error: { code: 'WEB_BAD_REQUEST' } });
  ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  t.match(await ws.request({ type: 'dance' }), { type: 'error', error: { code: 'WEB_BAD_REQUEST' } });
  t.match(await ws.request({ type: 'send', sessionId: 'nope', text: 'hi' }), {
    error: { code: 'PRESENCE_SESSION_NOT_FOUND' },
  });
  t.match(await ws.request({ type: 'send', sessionId: id, text: 'y'.repeat(101) }), {
    error: { code: 'PRESENCE_MESSAGE_TOO_LARGE' },
  });
  t.match(await ws.request({ type: 'send', sessionId: id, text: '<img src=x onerror=alert(1)>' }), {
    type: 'ack',
    message: { text: '<img src=x onerror=alert(1)>' },
  });
  t.match(await ws.request({ type: 'presence', state: 'away' }), { type: 'ack', presence: { state: 'away' } });
  t.match(await ws.request({ type: 'read', messageIds: [] }), { type: 'ack', read: [] });
  ws.ws.send(JSON.stringify({ type: 'ping', ref: 'p1' }));
  t.match(await ws.next((f) => f.type === 'pong'), { ref: 'p1' });
  t.same(
    (await storedMessages(platform.services.store)).map((m) => m.text),
    ['<img src=x onerror=alert(1)>'],
    'only the good message was stored',
  );

  const refused = (u: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const s = new WebSocket(u, { headers });
      s.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        s.terminate();
      });
      s.on('error', () => resolve(-1));
    });
  const wsUrl = url.replace(/^http/, 'ws');
  t.equal(await refused(`${wsUrl}/api/v1/ws?token=forged-token-forged-token`), 401);
  t.equal(await refused(`${wsUrl}/api/v1/ws`), 401);
  t.equal(await refused(`${wsUrl}/api/v1/ws`, { cookie: `sid=${a.token}`, origin: 'http://evil.example' }), 403);
  t.equal(await refused(`${wsUrl}/api/v1/ws`, { cookie: `sid=${a.token}` }), 403, 'no Origin with a cookie');
  t.equal(await refused(`${wsUrl}/elsewhere`), 404, 'other paths are not ours: 404');
});

t.test('a client that does not read is cut off, and what it missed waits for it', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { presence: { maxMessageBytes: 65536 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const presence = platform.services.presence;
  const s = await presence.createSession(alice, [bob]);
  await presence.accept(s.id, bob);
  const b = await ApiClient.login(url, 'bob');
  const ws = await WsClient.connect(url, b.token);
  ws.ws.pause();
  (ws.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const big = 'x'.repeat(60_000);
  let sent = 0;
  while (presence.linksOf(bob).length > 0 && sent < 2000) {
    await presence.postMessage({ sessionId: s.id, fromUserId: alice, text: `${sent} ${big}` });
    sent++;
  }
  t.equal(presence.linksOf(bob).length, 0, `cut off after ${sent} messages it did not read`);
  t.ok((await presence.unread(bob)).length >= sent, 'nothing was lost');
  const waiting = await presence.deliveryStates((await presence.unread(bob)).at(-1)?.id as string);
  t.equal(waiting[0]?.state, 'pending', 'the last ones wait for the next link');
  ws.ws.terminate();
});
