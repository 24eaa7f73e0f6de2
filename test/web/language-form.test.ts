/**
 * The language a user is spoken and written to in, chosen on the buddies page
 * (the web side of `phonectl user set-language`): the choice is kept, shown
 * selected, cleared back to the community default, and a tag without a
 * catalogue is refused with nothing changed.
 */
import t from 'tap';
import { HtmlClient, makeUsers, startPlatform } from '../support/presence.js';

t.test('Bob picks Spanish on the buddies page, then goes back to the default', async (t) => {
  const { platform, url } = await startPlatform(t);
  const { bob } = await makeUsers(platform, ['bob']);
  const accounts = platform.services.accounts;
  const browser = new HtmlClient(url);
  await browser.login('bob');
  let page = await browser.get('/buddies');
  t.match(page, /<select name="language">/, 'the page offers a language');
  t.match(page, /<option value="default" selected>/, 'the default is chosen at first');
  t.equal((await accounts.getUser(bob)).language, undefined);

  page = await browser.post('/language', { language: 'es' });
  t.equal((await accounts.getUser(bob)).language, 'es', 'kept for the IVR and the notifier');
  page = await browser.get('/buddies');
  t.match(page, /<option value="es" selected>Español<\/option>/, 'shown as chosen');

  page = await browser.post('/language', { language: 'it' });
  t.ok(browser.status >= 400 && browser.status < 500, `refused (${browser.status})`);
  t.match(page, /no catalogue for (&quot;|")it(&quot;|"); the platform speaks en, es, fr, de/, 'with the reason');
  t.equal((await accounts.getUser(bob)).language, 'es', 'a refused language changes nothing');

  await browser.get('/buddies');
  await browser.post('/language', { language: 'default' });
  t.equal((await accounts.getUser(bob)).language, undefined, 'cleared back to the community default');
});
