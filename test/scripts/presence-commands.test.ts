import t from 'tap';
import { buildServices } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { runEntry, testConfig } from '../support/env.js';

function cli(dir: string) {
  return (args: string[]) =>
    runEntry('scripts/phonectl.ts', ['--data-dir', dir, ...args], { env: { PHONEIM_ACCOUNTS__KDF_COST: '1024' } });
}

t.test('an admin makes contacts and looks at sessions and session objects', async (t) => {
  const dir = t.testdir({});
  const run = cli(dir);
  for (const u of ['alice', 'bob']) t.equal((await run(['user', 'add', u, '--name', u])).code, 0);
  let r = await run(['contact', 'add', 'alice', 'bob']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /alice and bob are contacts/);
  r = await run(['contact', 'list', 'bob']);
  t.match(r.stdout, /USERNAME\s+NAME\s+SUBSCRIPTION\s+PRESENCE/);
  t.match(r.stdout, /alice\s+alice\s+approved\s+offline/);
  r = await run(['--json', 'contact', 'list', 'alice']);
  t.match(JSON.parse(r.stdout), { contacts: [{ username: 'bob', subscription: 'approved' }], requests: [] });
  r = await run(['session', 'list', 'alice']);
  t.match(r.stdout, /\(none\)/);
  r = await run(['session', 'objects', 'alice']);
  t.match(r.stdout, /\(none\)/);
  // Bob starts a chat and logs in somewhere (through the services, as the server would).
  const svc = buildServices({ config: testConfig(dir), log: silentLogger() });
  const [alice, bob] = ['alice', 'bob'].map((u) => svc.accounts.getUser(u).id) as [number, number];
  const s = svc.presence.createSession(bob, [alice]);
  const { object } = svc.presence.objects.create(bob, 'web');
  await svc.presence.stop();
  svc.db.close();
  r = await run(['session', 'list', 'alice']);
  t.match(r.stdout, new RegExp(`${s.id}\\s+bob\\s+bob \\(joined\\), alice \\(invited\\)\\s+0`));
  r = await run(['session', 'objects', 'bob']);
  t.match(r.stdout, new RegExp(`${object.id}\\s+web\\s+node-1`));
  r = await run(['--json', 'session', 'objects', 'bob']);
  t.notMatch(r.stdout, /csrf/, 'the CSRF token is not shown');
  r = await run(['session', 'end', object.id]);
  t.match(r.stdout, /ended/);
  r = await run(['session', 'end', 'no-such-object']);
  t.match(r.stdout, /no session object no-such-object/);
  r = await run(['contact', 'remove', 'alice', 'bob']);
  t.match(r.stdout, /no longer contacts/);
  r = await run(['contact', 'add', 'alice', 'nobody']);
  t.equal(r.code, 1);
  t.match(r.stderr, /ACCOUNTS_USER_NOT_FOUND/);
});
