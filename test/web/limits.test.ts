/** The web's limits: log-in and post rates (429 + Retry-After), WebSockets per user, and a dead socket found by ping. */
import t from 'tap';
import WebSocket from 'ws';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform, until, WsClient } from '../support/presence.js';
import { storedMessages } from '../support/store.js';

t.test('log-ins are limited per client address and per account name: 429 with Retry-After', async (t) => {
  const { platform, url } = await startPlatform(t, {
    // The account lock-out (3 tries, unknown names too) is not what is tested here.
    overrides: {
      http: { loginsPerAddress: 7, loginsPerAccount: 3, loginWindowSeconds: 60 },
      accounts: { maxFailedTries: 20 },
    },
  });
  await makeUsers(platform, ['alice', 'bob']);
  const anon = new ApiClient(url);
  const tries = [];
  for (let i = 0; i < 3; i++)
    tries.push(await anon.call('POST', '/api/v1/login', { username: 'nobody', password: 'x' }));
  t.same(
    tries.map((r) => r.status),
    [401, 401, 401],
    'three tries at one account name are answered',
  );
  const res = await fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'NOBODY', password: 'x' }),
  });
  t.equal(res.status, 429, 'the fourth at the same name (any case) is refused');
  t.ok(Number(res.headers.get('retry-after')) > 0, 'with Retry-After in seconds');
  t.match(await res.json(), { error: { code: 'WEB_RATE_LIMITED', details: { retryAfterSeconds: Number } } });
  t.equal((await ApiClient.login(url, 'alice')).token.length > 0, true, 'another account from the address: fine');

  // The log-in form shares the address's count: 5 API tries so far (a refused one counts), 2 through the form,
  // and the next is refused.
  const browser = new HtmlClient(url);
  await browser.login('bob', 'wrong password');
  t.equal(browser.status, 401);
  await browser.login('bob');
  t.equal(browser.status, 200, 'Bob logs in through the form');
  const refused = new HtmlClient(url);
  await refused.login('alice');
  t.equal(refused.status, 429, 'over the per-address limit, the form is refused too');
  t.match(refused.page, /Too many log-in tries\. Please wait \d+ seconds/, 'with a readable notice');
  t.match(refused.page, /<form method="post" action="\/login">/, 'and the form to try again later');
});

t.test('posts are limited per user whatever the way in: API, form, WebSocket', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { http: { postsPerUser: 3, postWindowSeconds: 60 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const a = await ApiClient.login(url, 'alice');
  const id = ((await a.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string }).id;
  t.equal((await a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'one' })).status, 201);
  const ws = await WsClient.connect(url, a.token);
  t.teardown(() => ws.close());
  t.match(await ws.request({ type: 'send', sessionId: id, text: 'two' }), { type: 'ack' });
  t.equal((await a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'three' })).status, 201);
  const over = await fetch(`${url}/api/v1/sessions/${id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
    body: JSON.stringify({ text: 'four' }),
  });
  t.equal(over.status, 429);
  t.ok(Number(over.headers.get('retry-after')) > 0);
  t.match(await over.json(), { error: { code: 'WEB_RATE_LIMITED' } });
  t.match(await ws.request({ type: 'send', sessionId: id, text: 'five' }), {
    type: 'error',
    error: { code: 'WEB_RATE_LIMITED' },
  });
  const page = new HtmlClient(url);
  await page.login('alice');
  await page.get(`/chat/${id}`);
  await page.post(`/chat/${id}/send`, { text: 'six, typed with care' });
  t.equal(page.status, 429, 'the form is refused as well');
  t.match(page.page, /Not sent: too many messages/, 'it says why');
  t.match(page.page, /value="six, typed with care"/, 'and keeps the text');
  t.same(
    (await storedMessages(platform.services.store)).map((m) => m.text),
    ['one', 'two', 'three'],
    'only the three within the limit were stored',
  );
});

t.test('WebSockets per user are capped: one more is refused with 429', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { http: { maxWebSocketsPerUser: 2 } } });
  await makeUsers(platform, ['alice']);
  const a = await ApiClient.login(url, 'alice');
  const one = await WsClient.connect(url, a.token);
  const two = await WsClient.connect(url, a.token);
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const status = await new Promise<{ code: number; body: string }>((resolve) => {
    const s = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws?token=${a.token}`);
    s.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    s.on('error', () => {});
  });
  t.equal(status.code, 429, 'the third is refused');
  t.match(JSON.parse(status.body), { error: { code: 'WEB_TOO_MANY_SOCKETS' } });
  await one.close();
  await until(() => platform.web.ws.clients === 1);
  const three = await WsClient.connect(url, a.token);
  t.teardown(() => three.close());
  t.pass('after one closes, a new one is taken');
});

t.test('a WebSocket that stops answering pings is cut and its user goes offline', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { http: { wsPingSeconds: 1 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const b = await ApiClient.login(url, 'bob');
  const a = await ApiClient.login(url, 'alice');
  const presenceOfAlice = async () =>
    (
      (await b.call('GET', '/api/v1/contacts')).body as {
        contacts: { username: string; presence: { state: string } }[];
      }
    ).contacts.find((c) => c.username === 'alice')?.presence.state;

  // A healthy client (ws answers pings by itself) stays.
  const healthy = await WsClient.connect(url, b.token);
  t.teardown(() => healthy.close());
  // A dead one: it never answers a ping (as a phone whose network went away).
  const dead = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws?token=${a.token}`, { autoPong: false });
  const closed = new Promise<number>((resolve) => dead.on('close', (code) => resolve(code)));
  dead.on('error', () => {});
  await new Promise((resolve) => dead.once('open', resolve));
  t.equal(await presenceOfAlice(), 'online', 'Alice shows online while her socket is open');

  const started = Date.now();
  t.equal(await closed, 1006, 'the server cut the silent socket');
  t.ok(Date.now() - started < 5000, 'within two ping intervals or so');
  await until(() => platform.services.presence.linksOf(alice).length === 0);
  t.equal(await presenceOfAlice(), 'offline', 'and Alice shows offline');
  const id = ((await b.call('POST', '/api/v1/sessions', { invitees: ['alice'] })).body as { id: string }).id;
  const sent = (await b.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'are you there?' })).body as {
    id: string;
  };
  t.match(
    await platform.services.presence.deliveryStates(sent.id),
    [{ recipientId: alice, state: 'pending' }],
    'a message to her now waits (the notifier can escalate)',
  );
  t.equal(healthy.ws.readyState, WebSocket.OPEN, 'the healthy socket is still open');
});
