/** An administrator's password reset: the new password works, and every client of the old one must log in again. */
import t from 'tap';
import { phonectl } from '../support/cli.js';
import { ApiClient, makeUsers, startPlatform } from '../support/presence.js';

t.test('phonectl user set-password ends every session of the user, and only theirs', async (t) => {
  const dir = t.testdir({});
  const { platform, url } = await startPlatform(t, { dir });
  await makeUsers(platform, ['alice', 'bob']);
  const bobPhone = await ApiClient.login(url, 'bob');
  const bobDesk = await ApiClient.login(url, 'bob');
  const alice = await ApiClient.login(url, 'alice');
  t.equal((await bobDesk.call('GET', '/api/v1/me')).status, 200, 'a session of the old password works');

  const r = await phonectl(dir)(['user', 'set-password', 'bob'], 'a brand new password\n');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /password set for bob; 2 session\(s\) ended/);

  t.equal((await bobPhone.call('GET', '/api/v1/me')).status, 401, "bob's first client must log in again");
  t.equal((await bobDesk.call('GET', '/api/v1/me')).status, 401, "bob's second client too");
  t.equal((await alice.call('GET', '/api/v1/me')).status, 200, "alice's session goes on");
  await t.rejects(ApiClient.login(url, 'bob'), /401/, 'the old password is refused');
  t.ok(await ApiClient.login(url, 'bob', 'a brand new password'), 'the new one logs in');
});
