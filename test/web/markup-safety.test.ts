/** Characters XML forbids, sent in a message or a status text, never reach a page: every WML deck stays well-formed. */
import t from 'tap';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform } from '../support/presence.js';
import { checkWml } from '../support/wml-check.js';

const WAP_ACCEPT = 'text/vnd.wap.wml, */*;q=0.1';
// U+FFFE, U+FFFF, C0 controls other than tab/CR/LF, a lone high and a lone low surrogate.
const POISON = ['\uFFFE', '\uFFFF', '\u0001', '\u0008', '\u000B', '\u001F', '\uD800', '\uDC00'];
const ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

t.test('XML-illegal characters in a message and a status text never reach HTML or WML', async (t) => {
  const { platform, url } = await startPlatform(t);
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  await platform.services.presence.openLink(alice, { kind: 'web', deliver: () => {} });
  const a = await ApiClient.login(url, 'alice');
  const b = await ApiClient.login(url, 'bob');
  const id = ((await a.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string }).id;
  t.equal((await b.call('POST', `/api/v1/sessions/${id}/accept`)).status, 200);
  for (const ch of POISON) {
    const r = await a.call('POST', `/api/v1/sessions/${id}/messages`, { text: `before${ch}after 😀` });
    // Either refused with a clear error at the door, or taken and made safe on the way out.
    if (r.status !== 201)
      t.match(r, { status: 400, body: { error: { code: 'PRESENCE_INVALID_INPUT' } } }, `U+${ch.charCodeAt(0)}`);
  }
  const status = await a.call('PUT', '/api/v1/presence', { state: 'away', statusText: 'out\uFFFFlunch' });
  t.equal(status.status, 200, 'a status text with them is taken');

  for (const [accept, kind] of [
    [WAP_ACCEPT, 'WML'],
    ['text/html', 'HTML'],
  ] as const) {
    const phone = new HtmlClient(url, accept);
    await phone.login('bob');
    const buddies = phone.page;
    const chat = await phone.get(phone.url.replace(/\/buddies/, `/chat/${id}`));
    t.equal(phone.status, 200);
    t.match(chat, /before\uFFFDafter 😀/, `${kind}: the message shows, the bad character as U+FFFD`);
    t.notOk(ILLEGAL.test(chat), `${kind}: no XML-illegal character on the chat page`);
    t.match(buddies, /out\uFFFDlunch/, `${kind}: the status text shows, made safe`);
    t.notOk(ILLEGAL.test(buddies), `${kind}: no XML-illegal character on the buddy list`);
    if (kind === 'WML') {
      t.same(checkWml(chat), [], 'the chat deck is well-formed');
      t.same(checkWml(buddies), [], 'the buddy deck is well-formed');
    }
  }
});
