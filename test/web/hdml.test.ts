/**
 * HDML 3.0 for the oldest phones (UP.Browser asks with Accept: text/x-hdml):
 * every deck is well-formed, names HDML 3.0 and uses only its elements, and
 * shows the same text as the WML deck of the same page; the phone logs in,
 * reads and sends through the decks' own links and POSTDATA, the token in
 * every URL and no cookie.
 */
import t, { type Test } from 'tap';
import { checkHdml, type El, findAll, parseDeck, textOf } from '../support/hdml-check.js';
import { befriend, HtmlClient, makeUsers, startPlatform, WsClient, ApiClient } from '../support/presence.js';

const HDML_ACCEPT = 'text/x-hdml;version=3.0, text/x-hdmlc, image/bmp;q=0.5, */*;q=0.1';
const WAP_ACCEPT = 'text/vnd.wap.wml, */*;q=0.1';

function hdmlOk(t: Test, page: string, what: string): El {
  const { root, problems } = checkHdml(page);
  t.same(problems, [], `${what} is a well-formed HDML 3.0 deck`);
  return root as El;
}

/** The main card's text in both languages: fields left out (WML lists, HDML links to field cards). */
function sameContent(t: Test, hdml: string, wml: string, what: string): void {
  const h = checkHdml(hdml).root as El;
  const w = parseDeck(wml).root as El;
  const display = findAll(h, 'DISPLAY')[0] as El;
  const card = findAll(w, 'card')[0] as El;
  const hText = textOf(display, (e) => e.name === 'A' && (e.attrs.DEST ?? '').startsWith('#'));
  const wText = textOf(card, (e) => e.name === 'select');
  t.equal(hText, wText, `${what}: the same text as the WML deck`);
  t.same(
    findAll(h, 'CE').map((c) => textOf(c)),
    findAll(w, 'option').map((o) => textOf(o)),
    `${what}: the same choices`,
  );
  t.equal(display.attrs.TITLE, card.attrs.title, `${what}: the same title`);
}

/** Follows a POST link of the deck as the phone would: its DEST with its POSTDATA, variables filled in. */
async function postLink(base: string, deck: El, label: string, vars: Record<string, string> = {}) {
  const a = findAll(deck, 'A').find((x) => textOf(x) === label && x.attrs.METHOD === 'POST');
  if (!a) throw new Error(`no POST link "${label}"`);
  const data = (a.attrs.POSTDATA ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, n: string) =>
    encodeURIComponent(vars[n] ?? ''),
  );
  const res = await fetch(new URL(a.attrs.DEST as string, base), {
    method: 'POST',
    headers: { accept: HDML_ACCEPT, 'content-type': 'application/x-www-form-urlencoded' },
    body: data,
    redirect: 'manual',
  });
  const location = res.headers.get('location');
  const cookie = res.headers.get('set-cookie');
  await res.text();
  return { status: res.status, location, cookie };
}

t.test('the checker refuses what an HDML browser would choke on', async (t) => {
  const good =
    '<HDML VERSION="3.0"><DISPLAY NAME="a">Hi $$ and $(x)<BR><A TASK="GO" DEST="#a">again</A></DISPLAY></HDML>';
  t.same(checkHdml(good).problems, []);
  for (const [deck, why] of [
    ['<HDML VERSION="3.0"><DISPLAY NAME="a">x</HDML>', /closes <DISPLAY>/],
    ['<HDML VERSION=3.0><DISPLAY NAME="a">x</DISPLAY></HDML>', /not quoted/],
    ['<HDML VERSION="2.0"><DISPLAY NAME="a">x</DISPLAY></HDML>', /VERSION="3.0"/],
    ['<HDML VERSION="3.0"><DISPLAY NAME="a">a & b</DISPLAY></HDML>', /bare "&"/],
    ['<HDML VERSION="3.0"><DISPLAY NAME="a">costs $5</DISPLAY></HDML>', /"\$" that is not variable syntax/],
    ['<HDML VERSION="3.0"><DISPLAY NAME="a"><B>x</B></DISPLAY></HDML>', /<B> is not an HDML 3.0 element/],
    ['<HDML VERSION="3.0"><DISPLAY NAME="a"><A DEST="#b">x</A></DISPLAY></HDML>', /no card of the deck/],
    ['<HDML VERSION="3.0"><DISPLAY>x</DISPLAY></HDML>', /without NAME/],
    ['<HDML VERSION="3.0"><DISPLAY NAME="a"><CE>x</CE></DISPLAY></HDML>', /may not contain CE/],
  ] as const)
    t.match(checkHdml(deck).problems.join('; '), why, deck);
});

t.test('an HDML phone logs in, sees its buddies, reads and sends; every deck matches its WML twin', async (t) => {
  const { platform, url } = await startPlatform(t);
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const aliceApi = await ApiClient.login(url, 'alice');
  const aliceWs = await WsClient.connect(url, aliceApi.token);
  t.teardown(() => aliceWs.close());
  await aliceApi.call('PUT', '/api/v1/presence', { state: 'away', statusText: 'price: $5 & <more>' });
  const sessionId = ((await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string })
    .id;
  await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Lunch at "noon"? $(t) & <b>' });

  const phone = new HtmlClient(url, HDML_ACCEPT);
  const wap = new HtmlClient(url, WAP_ACCEPT);
  const login = await phone.get('/login');
  t.match(
    (await fetch(`${url}/login`, { headers: { accept: HDML_ACCEPT } })).headers.get('content-type'),
    /^text\/x-hdml/,
  );
  const loginDeck = hdmlOk(t, login, 'the log-in deck');
  sameContent(t, login, await wap.get('/login'), 'the log-in deck');
  t.ok(
    findAll(loginDeck, 'ENTRY').some((e) => e.attrs.KEY === 'pw' && e.attrs.NOECHO === 'TRUE'),
    'the password is not echoed',
  );

  // Log in through the deck's own link: wrong password first, then the right one.
  let r = await postLink(url, loginDeck, 'Log in', { u: 'bob', pw: 'wrong' });
  t.equal(r.status, 401);
  r = await postLink(url, loginDeck, 'Log in', { u: 'bob', pw: 'correct horse' });
  t.equal(r.status, 303);
  t.equal(r.cookie, null, 'no cookie for HDML');
  const token = new URL(r.location as string, url).searchParams.get('s') as string;
  t.ok(token.length > 20, 'the token rides in the URL');

  const buddies = await phone.get(`/buddies?s=${token}`);
  const buddyDeck = hdmlOk(t, buddies, 'the buddy deck');
  await wap.login('bob');
  const wapToken = new URL(wap.url).searchParams.get('s') as string;
  sameContent(t, buddies, await wap.get(`/buddies?s=${wapToken}`), 'the buddy deck');
  const shown = textOf(findAll(buddyDeck, 'DISPLAY')[0] as El);
  t.match(shown, /Alice: away \(price: \$5 & <more>\)/, 'presence and status, decoded back to what Alice typed');
  t.match(shown, /Invited by Alice/);
  t.ok(
    findAll(buddyDeck, 'A').every((a) => a.attrs.DEST?.startsWith('#') || a.attrs.DEST?.includes(`s=${token}`)),
    'every link and post carries the token',
  );

  // Accept through the deck, then read the chat.
  r = await postLink(url, buddyDeck, 'Accept');
  t.equal(r.status, 303);
  const chat = await phone.get(r.location as string);
  const chatDeck = hdmlOk(t, chat, 'the chat deck');
  sameContent(t, chat, await wap.get(`/chat/${sessionId}?s=${wapToken}`), 'the chat deck');
  t.match(textOf(findAll(chatDeck, 'DISPLAY')[0] as El), /Alice: Lunch at "noon"\? \$\(t\) & <b>/, 'the text as sent');
  t.same(await platform.services.presence.unread(bob), [], 'shown = read');

  // Send through the deck's Send link; Alice gets it live.
  r = await postLink(url, chatDeck, 'Send', { t: 'On my way, $2 coffee' });
  t.equal(r.status, 303);
  t.same(
    (await aliceWs.waitMessages(2)).map((m) => m.text),
    ['Lunch at "noon"? $(t) & <b>', 'On my way, $2 coffee'],
    'Alice has her own line and Bob’s answer',
  );
  // A refused message comes back in the field, with why.
  const again = hdmlOk(t, await phone.get(r.location as string), 'the chat deck after sending');
  const res = await fetch(`${url}/chat/${sessionId}/send?s=${token}`, {
    method: 'POST',
    headers: { accept: HDML_ACCEPT, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      text: 'x'.repeat(9000),
      csrf: /csrf=([^&"]+)/.exec(findAll(again, 'A').find((a) => a.attrs.POSTDATA)?.attrs.POSTDATA ?? '')?.[1] ?? '',
    }).toString(),
  });
  const refused = await res.text();
  t.equal(res.status, 413);
  const refusedDeck = hdmlOk(t, refused, 'the refused deck');
  t.match(textOf(findAll(refusedDeck, 'DISPLAY')[0] as El), /Not sent: .*shorten it/);
  t.equal(findAll(refusedDeck, 'ENTRY').find((e) => e.attrs.KEY === 't')?.attrs.DEFAULT, 'x'.repeat(9000));

  // An error is a deck too.
  const missing = await phone.get(`/chat/nope?s=${token}`);
  t.equal(phone.status, 404);
  sameContent(t, missing, await wap.get(`/chat/nope?s=${wapToken}`), 'the error deck');
  hdmlOk(t, missing, 'the error deck');
});
