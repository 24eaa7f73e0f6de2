/** Without JavaScript, a refused message re-renders the chat with the error and the typed text (HTML and WML). */
import t from 'tap';
import { befriend, HtmlClient, makeUsers, startPlatform } from '../support/presence.js';
import { checkWml } from '../support/wml-check.js';
import { storedMessages } from '../support/store.js';

t.test('a message over the byte limit: the chat again, saying the limit, with the text kept', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { presence: { maxMessageBytes: 100 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const session = await platform.services.presence.createSession(alice, [bob]);
  // 60 characters, 120 bytes: under a character count of 100, over the byte limit.
  const text = 'ü'.repeat(59) + '$';

  const browser = new HtmlClient(url);
  await browser.login('alice');
  const chat = await browser.get(`/chat/${session.id}`);
  t.match(chat, /data-max-bytes="100"/, 'the field knows the limit in bytes');
  t.notMatch(chat, /name="text"[^>]*maxlength/, 'no character count that disagrees with it');
  await browser.post(`/chat/${session.id}/send`, { text });
  t.equal(browser.status, 413, 'refused');
  t.match(browser.page, /Not sent: a message may have at most 100 bytes/, 'it says why, with the limit');
  t.match(browser.page, new RegExp(`id="text"[^>]*value="${text.replace('$', '\\$')}"`), 'the typed text is kept');
  t.notMatch(browser.page, /http-equiv="refresh"/, 'the page does not reload the text away');

  const phone = new HtmlClient(url, 'text/vnd.wap.wml');
  await phone.login('alice');
  await phone.get(phone.url.replace(/\/buddies/, `/chat/${session.id}`));
  await phone.post(phone.url.replace(/\/chat\/([^/?]+)/, '/chat/$1/send'), { text });
  t.equal(phone.status, 413);
  t.same(checkWml(phone.page), [], 'the deck is well-formed');
  t.match(phone.page, /Not sent: a message may have at most 100 bytes/);
  t.match(phone.page, new RegExp(`<input name="t"[^>]*value="${'ü'.repeat(59)}\\$\\$"`), 'the text is kept');
  t.notMatch(phone.page, /<setvar name="t" value=""\/>/, 'and not wiped on entry');

  t.same(await storedMessages(platform.services.store), [], 'nothing stored');
  await browser.post(`/chat/${session.id}/send`, { text: 'short' });
  t.equal(browser.status, 200, 'a message within the limit goes');
  t.match(browser.page, /<span class="text">short<\/span>/);
});
