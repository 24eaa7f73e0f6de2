/** The thin client over plain HTTP: HTML with JavaScript off, and WML 1.1 for WAP phones. */
import t, { type Test } from 'tap';
import { PASSWORD, befriend, HtmlClient, makeUsers, startPlatform } from '../support/presence.js';
import { cardOrderProblems, checkWml } from '../support/wml-check.js';

const WAP_ACCEPT = 'text/vnd.wap.wml, image/vnd.wap.wbmp, */*;q=0.1';

function wmlOk(t: Test, page: string, what: string): void {
  t.same([...checkWml(page), ...cardOrderProblems(page)], [], `${what} is valid WML 1.1`);
}

t.test('the WML checker finds what a WAP browser would choke on', async (t) => {
  const head =
    '<?xml version="1.0"?>\n<!DOCTYPE wml PUBLIC "-//WAPFORUM//DTD WML 1.1//EN" "http://www.wapforum.org/DTD/wml_1.1.xml">\n';
  t.same(checkWml(`${head}<wml><card id="a"><p>Hi $$ and $(name) &amp; <b>bold</b><br/></p></card></wml>`), []);
  const bad: [string, RegExp][] = [
    ['<wml><card><p>x</p></card></wml>', /doctype/],
    [`${head}<wml><card><div>x</div></card></wml>`, /<div> is not a WML 1.1 element/],
    [`${head}<wml><card><p>a & b</p></card></wml>`, /bare "&"/],
    [`${head}<wml><card><p>costs $ 5</p></card></wml>`, /"\$" that is not WML variable syntax/],
    [`${head}<wml><card><p>x</card></wml>`, /closes/],
    [`${head}<wml><card><p><a>x</a></p></card></wml>`, /<a> needs href/],
    [`${head}<wml><card><p><a href="/" onclick="x()">x</a></p></card></wml>`, /no attribute onclick/],
    [`${head}<wml><card>text</card></wml>`, /may not contain text/],
    [`${head}<wml><card><p><script>x</script></p></card></wml>`, /<script> is not/],
    [`${head}<wml><card><p>x</p></card></wml><wml/>`, /more than one root/],
    [`${head}<wml><card><p>x</p>`, /never closed/],
    [`${head}<html/>`, /root element must be <wml>/],
    [`${head}<wml><card><p><br>x</br></p></card></wml>`, /must be empty/],
  ];
  for (const [doc, re] of bad) t.match(checkWml(doc).join('\n'), re, `finds ${re}`);
  t.match(cardOrderProblems('<card><p>x</p><timer value="1"/></card>').join(), /<timer> after do\/p/);
});

t.test(
  'a WAP phone logs in, sees its buddies, chats; every deck is WML 1.1 and the token rides in the URL',
  async (t) => {
    const { platform, url } = await startPlatform(t);
    const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
    await befriend(platform, [alice, bob]);
    await platform.services.presence.openLink(alice, { kind: 'phone', deliver: () => {} });
    const phone = new HtmlClient(url, WAP_ACCEPT);

    const login = await phone.get('/login');
    wmlOk(t, login, 'the log-in deck');
    t.match(login, /<input name="pw" type="password"/);
    await phone.post('/login', { username: 'bob', password: 'not his password' });
    t.equal(phone.status, 401);
    wmlOk(t, phone.page, 'the failed log-in deck');
    t.match(phone.page, /Wrong username or password/);

    const buddies = await phone.login('bob');
    t.equal(phone.cookie, '', 'no cookie for WAP');
    const token = new URL(phone.url).searchParams.get('s') as string;
    t.ok(token && token.length > 20, 'the token is in the URL');
    wmlOk(t, buddies, 'the buddy deck');
    t.match(buddies, /Alice: on the phone/);
    t.match(buddies, /<timer value="150"\/>/, 'the deck reloads itself');
    t.match(buddies, new RegExp(`<go method="post" href="/chat/new\\?s=${token}">`), 'forms carry the token');

    // Bob starts a chat with Alice and sends a line with markup and a dollar sign.
    await phone.post(`/chat/new?s=${token}`, { contactId: String(alice) });
    const sessionId = /href="\/chat\/([0-9a-f-]+)\/send/.exec(phone.page)?.[1] as string;
    t.ok(sessionId, 'on the chat deck');
    await phone.post(`/chat/${sessionId}/send?s=${token}`, { text: 'price <b>$5</b> & $(t) ok?' });
    wmlOk(t, phone.page, 'the chat deck');
    t.match(phone.page, /<b>You:<\/b> price &lt;b&gt;\$\$5&lt;\/b&gt; &amp; \$\$\(t\) ok\?/, 'escaped, "$" doubled');

    // Alice, also on a WAP phone, is invited, accepts and answers.
    const aliceWap = new HtmlClient(url, WAP_ACCEPT);
    const abud = await aliceWap.login('alice');
    wmlOk(t, abud, 'Alice’s buddy deck');
    t.match(abud, /Invited by Bob/);
    const at = new URL(aliceWap.url).searchParams.get('s') as string;
    await aliceWap.post(`/chat/${sessionId}/accept?s=${at}`, {});
    wmlOk(t, aliceWap.page, 'the chat deck after accepting');
    t.match(aliceWap.page, /<b>Bob:<\/b> price/);
    await aliceWap.post(`/chat/${sessionId}/send?s=${at}`, { text: 'not now' });

    // Bob's next reload shows it, and marks it read.
    await phone.get(`/chat/${sessionId}?s=${token}`);
    wmlOk(t, phone.page, 'the reloaded chat deck');
    t.match(phone.page, /<b>Alice:<\/b> not now/);
    t.same(await platform.services.presence.unread(bob), [], 'seen on the phone = read');

    await aliceWap.post(`/chat/${sessionId}/leave?s=${at}`, {});
    wmlOk(t, aliceWap.page, 'the buddy deck after leaving');
    await aliceWap.get(`/chat/${sessionId}?s=${at}`);
    t.match(aliceWap.page, /You left this chat/);
    wmlOk(t, aliceWap.page, 'the chat deck of a chat one left');
    await aliceWap.get(`/chat/nope?s=${at}`);
    t.equal(aliceWap.status, 404);
    wmlOk(t, aliceWap.page, 'the error deck');
    await aliceWap.get(`/buddies?s=${at}`);
    await aliceWap.post(`/presence?s=${at}`, { state: 'busy' });
    wmlOk(t, aliceWap.page, 'the buddy deck after setting presence');
    await aliceWap.post(`/logout?s=${at}`, {});
    t.match(aliceWap.url, /\/login$/);
  },
);

t.test(
  'HTML with JavaScript off: log-in, buddies, contacts, chat; text escaped, forms need their CSRF token',
  async (t) => {
    const { platform, url } = await startPlatform(t);
    const { alice, bob } = await makeUsers(platform, ['alice', 'bob', 'carol']);
    const browser = new HtmlClient(url);
    await browser.get('/buddies');
    t.match(browser.url, /\/login$/, 'not logged in: sent to the log-in page');
    await browser.get('/');
    t.match(browser.url, /\/login$/);
    await browser.post('/login', { username: 'alice', password: PASSWORD }, { csrf: 'forged.token' });
    t.equal(browser.status, 403, 'a log-in without the form’s token is refused');
    t.match(browser.page, /stale/);
    await browser.post('/login', { username: 'alice', password: 'wrong password' });
    t.equal(browser.status, 401);
    t.match(browser.page, /Wrong username or password/);
    t.match(browser.page, /value="alice"/, 'the username is kept');

    await browser.login('alice');
    t.match(browser.cookie, /^sid=/);
    t.match(browser.page, /<h1>Buddies of Alice<\/h1>/);
    t.match(browser.page, /<noscript><meta http-equiv="refresh" content="15"><\/noscript>/);
    await browser.get('/');
    t.match(browser.url, /\/buddies$/);

    // Alice adds Bob; Bob (another browser) approves.
    await browser.post('/contacts/add', { username: 'bob' });
    t.match(browser.page, /waiting for approval/);
    await browser.post('/contacts/add', { username: 'nobody' });
    t.equal(browser.status, 404);
    t.match(browser.page, /no user &quot;nobody&quot;/);
    const bobBrowser = new HtmlClient(url);
    await bobBrowser.login('bob');
    t.match(bobBrowser.page, /Alice \(alice\) asks to add you/);
    await bobBrowser.post('/contacts/approve', { userId: String(alice) });
    t.match(
      bobBrowser.page,
      /<span class="name">Alice<\/span> \(alice\) <span class="presence" data-presence-user="\d+">online<\/span>/,
    );

    // Presence with a status text that tries to break out of its element.
    await bobBrowser.post('/presence', { state: 'away', statusText: '"><script>alert(1)</script>' });
    await browser.get('/buddies');
    t.match(
      browser.page,
      /away<\/span> <q class="status-text">&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/q>/,
    );

    // A chat: script in a message is shown as text.
    await browser.post('/chat/new', { contactId: String(bob) });
    const id = /data-session="([^"]+)"/.exec(browser.page)?.[1] as string;
    await bobBrowser.get('/buddies');
    t.match(bobBrowser.page, /Alice invites you to chat/);
    await bobBrowser.post(`/chat/${id}/accept`, {});
    await bobBrowser.post(`/chat/${id}/send`, { text: '<script>alert("x")</script>' });
    await browser.get(`/chat/${id}`);
    t.match(browser.page, /<span class="text">&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;<\/span>/);
    t.notMatch(browser.page, /<script>alert/);
    const res = await fetch(`${url}/chat/${id}`, { headers: { cookie: browser.cookie } });
    t.match(res.headers.get('content-security-policy'), /script-src 'self'/);

    // A forged form (no or wrong CSRF token) changes nothing.
    const before = (await platform.services.presence.history(alice, id)).length;
    await browser.post(`/chat/${id}/send`, { text: 'forged' }, { csrf: null });
    t.equal(browser.status, 403);
    t.match(browser.page, /data-code="WEB_CSRF_FAILED"/);
    await browser.post(`/chat/${id}/send`, { text: 'forged' }, { csrf: 'x'.repeat(24) });
    t.equal(browser.status, 403);
    t.equal((await platform.services.presence.history(alice, id)).length, before, 'nothing was sent');

    // Oversize and empty messages: a clear error page, nothing stored.
    await browser.get(`/chat/${id}`);
    await browser.post(`/chat/${id}/send`, { text: 'x'.repeat(9000) });
    t.equal(browser.status, 413);
    t.match(browser.page, /at most 8192 bytes/);
    await browser.get(`/chat/${id}`);
    await browser.post(`/chat/${id}/send`, { text: '   ' });
    t.equal(browser.status, 400);
    t.equal((await platform.services.presence.history(alice, id)).length, before);

    // Bob leaves; Bob declines nothing; the buddy page lists the chat with unread counts for Alice.
    await bobBrowser.get(`/chat/${id}`);
    await bobBrowser.post(`/chat/${id}/send`, { text: 'bye' });
    await browser.get('/buddies');
    t.match(browser.page, /Chat with Bob<\/a> <strong class="unread">1 new<\/strong>/);
    await bobBrowser.post(`/chat/${id}/leave`, {});
    t.match(bobBrowser.url, /\/buddies$/);
    await bobBrowser.get(`/chat/${id}`);
    t.match(bobBrowser.page, /You left this chat/);
    const js = await fetch(`${url}/static/live.js`);
    t.match(js.headers.get('content-type'), /javascript/);
    t.match(await js.text(), /new WebSocket/);
    await browser.post('/logout', {});
    t.notMatch(browser.cookie, /^sid=/, 'the session cookie is cleared');
    await browser.get('/buddies');
    t.match(browser.url, /\/login$/);
  },
);

t.test('a thin client counts as a link while it keeps asking for pages', async (t) => {
  const { ManualClock } = await import('../../src/core/clock.js');
  const clock = new ManualClock(Date.now());
  const { platform, url } = await startPlatform(t, { clock });
  await makeUsers(platform, ['alice']);
  const browser = new HtmlClient(url);
  await browser.login('alice');
  const alice = (await platform.services.accounts.getUser('alice')).id;
  t.equal((await platform.services.presence.presenceOf(alice)).state, 'online');
  clock.advance(60_000);
  await browser.get('/buddies');
  clock.advance(60_000);
  t.equal((await platform.services.presence.presenceOf(alice)).state, 'online', 'kept alive by the reload');
  clock.advance(31_000);
  t.equal((await platform.services.presence.presenceOf(alice)).state, 'offline', 'gone quiet: offline');
});
