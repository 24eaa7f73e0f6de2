/** The lock-out through the JSON API: log-ins sent at once cannot race it, and unknown names answer alike. */
import t from 'tap';
import { makeUsers, PASSWORD, startPlatform } from '../support/presence.js';

const login = (url: string, username: string, password: string) =>
  fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code }));

t.test('12 wrong passwords and the right one sent at once with 3 tries: the right one is refused', async (t) => {
  // The web's log-in rate limit is not what is tested here: room for all 26 tries.
  const { platform, url } = await startPlatform(t, {
    overrides: { http: { loginsPerAddress: 100, loginsPerAccount: 100 } },
  });
  await makeUsers(platform, ['bob']);
  const wrong = Array.from({ length: 12 }, (_, i) => login(url, 'bob', `not the password ${i}`));
  const right = login(url, 'bob', PASSWORD);
  const answers = await Promise.all([...wrong, right]);
  t.same(answers.at(-1), { status: 423, code: 'ACCOUNTS_LOCKED' }, 'the right password is refused: locked');
  t.equal(answers.filter((a) => a.status === 401).length, 2, 'two wrong ones were told "wrong"');
  t.equal(answers.filter((a) => a.status === 423).length, 11, 'every other one "locked"');

  const unknown = await Promise.all(Array.from({ length: 13 }, (_, i) => login(url, 'nobody', `guess ${i}`)));
  t.same(
    unknown.map((a) => `${a.status} ${a.code}`).sort(),
    answers.map((a) => `${a.status} ${a.code}`).sort(),
    'an unknown name answers exactly as a real one',
  );
});
