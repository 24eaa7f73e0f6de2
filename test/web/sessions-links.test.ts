/** Sessions and links: single-use reply links, a log-in form bound to its browser, Secure cookies, password changes. */
import { join } from 'node:path';
import t from 'tap';
import { replyLinkUrl, signReplyToken } from '../../src/notify/reply-link.js';
import { ApiClient, befriend, HtmlClient, makeUsers, PASSWORD, startPlatform, WsClient } from '../support/presence.js';

const LINK_SECRET = 'a test secret for reply links, long enough';

t.test('a reply link logs in once; the second use says so and offers the log-in form', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { notify: { linkSecret: LINK_SECRET } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const session = await platform.services.presence.createSession(alice, [bob]);
  // The link as the alert email carries it.
  const token = signReplyToken(LINK_SECRET, {
    userId: bob,
    sessionId: session.id,
    alertId: 'alert-1',
    expiresAt: Date.now() + 3600_000,
  });
  const link = replyLinkUrl(url, token);
  const first = new HtmlClient(url);
  await first.get(link);
  t.equal(first.status, 200, 'the first use logs Bob in');
  t.match(first.url, new RegExp(`/chat/${session.id}$`), 'into the chat');
  const second = new HtmlClient(url);
  await second.get(link);
  t.equal(second.status, 410, 'the second use is refused');
  t.match(second.page, /already been used\. Please log in/);
  t.match(second.page, /<form method="post" action="\/login">/, 'with the log-in form');
  t.notMatch(second.cookie, /^sid=/, 'and no session');
  const wap = new HtmlClient(url, 'text/vnd.wap.wml');
  await wap.get(link);
  t.equal(wap.status, 410, 'the same from a WAP phone');
});

t.test('the log-in form only works from the browser it was served to (no log-in CSRF)', async (t) => {
  const { platform, url } = await startPlatform(t);
  await makeUsers(platform, ['mallory', 'alice']);
  // Mallory fetches a form for herself, and makes Alice's browser post it with Mallory's password.
  const mallory = new HtmlClient(url);
  await mallory.get('/login');
  const csrf = mallory.csrf();
  const victim = new HtmlClient(url);
  await victim.post('/login', { username: 'mallory', password: PASSWORD }, { csrf });
  t.equal(victim.status, 403, 'a form from another browser is refused');
  t.match(victim.page, /The form was stale/);
  t.notMatch(victim.cookie, /^sid=/, 'the victim is not logged in as Mallory');
  // Even when the victim's browser has a pre-session cookie of its own.
  await victim.get('/login');
  await victim.post('/login', { username: 'mallory', password: PASSWORD }, { csrf });
  t.equal(victim.status, 403);
  await mallory.post('/login', { username: 'mallory', password: PASSWORD });
  t.equal(mallory.status, 200, 'the browser that got the form logs in');
  t.match(mallory.cookie, /^sid=/);
});

t.test('cookies are Secure behind TLS: publicUrl https, or a trusted X-Forwarded-Proto', async (t) => {
  const setCookies = async (base: string, headers: Record<string, string> = {}) => {
    const form = await fetch(`${base}/login`, { headers: { accept: 'text/html', ...headers } });
    const pre = form.headers.get('set-cookie') ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...headers,
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        cookie: pre.split(';')[0] as string,
      },
      body: new URLSearchParams({ username: 'alice', password: PASSWORD, csrf }).toString(),
    });
    t.equal(res.status, 303, 'logged in');
    return [pre, res.headers.get('set-cookie') ?? ''];
  };
  // Three communities, each on its own data directory (and so its own store).
  const dirs = t.testdir({ plain: {}, proxied: {}, tls: {} });
  const plain = await startPlatform(t, { dir: join(dirs, 'plain') });
  await makeUsers(plain.platform, ['alice']);
  for (const c of await setCookies(plain.url)) t.notMatch(c, /Secure/, 'plain HTTP: not Secure');
  for (const c of await setCookies(plain.url, { 'x-forwarded-proto': 'https' }))
    t.notMatch(c, /Secure/, 'X-Forwarded-Proto is not believed by default');

  const proxied = await startPlatform(t, {
    dir: join(dirs, 'proxied'),
    overrides: { http: { trustForwardedProto: true } },
  });
  await makeUsers(proxied.platform, ['alice']);
  for (const c of await setCookies(proxied.url, { 'x-forwarded-proto': 'https' }))
    t.match(c, /; Secure/, 'a trusted proxy says https: Secure');

  const tls = await startPlatform(t, {
    dir: join(dirs, 'tls'),
    overrides: { http: { publicUrl: 'https://im.example.com' } },
  });
  await makeUsers(tls.platform, ['alice']);
  // The public URL is the proxy's; the test talks to the node's own loopback port.
  for (const c of await setCookies(`http://127.0.0.1:${tls.platform.http.port}`))
    t.match(c, /; Secure/, 'publicUrl is https: Secure');
});

t.test("changing a password ends the user's other sessions and keeps the one that changed it", async (t) => {
  const { platform, url } = await startPlatform(t);
  await makeUsers(platform, ['alice']);
  const here = await ApiClient.login(url, 'alice');
  const other = await ApiClient.login(url, 'alice');
  const browser = new HtmlClient(url);
  await browser.login('alice');
  const otherWs = await WsClient.connect(url, other.token);
  const closed = new Promise<number>((resolve) => otherWs.ws.once('close', (code) => resolve(code)));

  t.match(await here.call('POST', '/api/v1/password', { currentPassword: 'wrong', newPassword: 'a new secret' }), {
    status: 401,
    body: { error: { code: 'ACCOUNTS_BAD_CREDENTIALS' } },
  });
  t.equal((await other.call('GET', '/api/v1/me')).status, 200, 'a wrong current password changes nothing');
  t.match(await here.call('POST', '/api/v1/password', { currentPassword: PASSWORD, newPassword: 'a new secret' }), {
    status: 200,
    body: { changed: true, endedSessions: 2 },
  });
  t.equal((await here.call('GET', '/api/v1/me')).status, 200, 'the session that changed it goes on');
  t.equal((await other.call('GET', '/api/v1/me')).status, 401, 'the other API session has ended');
  await browser.get('/buddies');
  t.match(browser.url, /\/login$/, 'the browser session has ended');
  t.equal(await closed, 4001, "the other session's WebSocket is closed");
  t.equal(
    (await new ApiClient(url).call('POST', '/api/v1/login', { username: 'alice', password: PASSWORD })).status,
    401,
  );
  t.ok((await ApiClient.login(url, 'alice', 'a new secret')).token, 'the new password works');
});
