/** The admin role from the command line: granted at creation or later, revoked, shown; bad input refused. */
import t from 'tap';
import { phonectl as cli } from '../support/cli.js';

t.test('user add --admin grants the role; set-admin grants and revokes it; show says which', async (t) => {
  const run = cli(t.testdir({}));
  let r = await run(['user', 'add', 'olga', '--name', 'Olga Operator', '--admin']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /created user olga \(account number \d{6}\), an admin/);
  r = await run(['--json', 'user', 'show', 'olga']);
  t.match(JSON.parse(r.stdout), { username: 'olga', admin: 'yes' });

  r = await run(['--json', 'user', 'add', 'pat', '--name', 'Pat']);
  t.match(JSON.parse(r.stdout), { username: 'pat', isAdmin: false });
  r = await run(['user', 'show', 'pat']);
  t.match(r.stdout, /^admin:\s+no$/m);

  r = await run(['user', 'set-admin', 'pat', 'on']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'pat is an admin\n');
  r = await run(['user', 'set-admin', 'pat', 'on']);
  t.equal(r.stdout, 'pat is an admin (unchanged)\n');
  r = await run(['--json', 'user', 'set-admin', 'olga', 'off']);
  t.same(JSON.parse(r.stdout), { user: 'olga', isAdmin: false, changed: true });
  r = await run(['user', 'show', 'olga']);
  t.match(r.stdout, /^admin:\s+no$/m);

  r = await run(['user', 'set-admin', 'pat', 'maybe']);
  t.equal(r.code, 1);
  t.match(r.stderr, /error: say "on" or "off", not "maybe" \[ACCOUNTS_INVALID_INPUT\]/);
  r = await run(['user', 'show', 'pat']);
  t.match(r.stdout, /^admin:\s+yes$/m, 'a refused command changed nothing');

  r = await run(['user', 'list']);
  t.match(r.stdout, /^olga\s+\d{6}\s+Olga Operator\s+UTC\s+no$/m, 'the list says who is an admin');
  t.match(r.stdout, /^pat\s+\d{6}\s+Pat\s+UTC\s+yes$/m);
  r = await run(['--json', 'user', 'list']);
  t.match(JSON.parse(r.stdout), [
    { username: 'olga', isAdmin: false },
    { username: 'pat', isAdmin: true },
  ]);
  r = await run(['user', 'set-admin', 'nobody', 'on']);
  t.equal(r.code, 1);
  t.match(r.stderr, /\[ACCOUNTS_USER_NOT_FOUND\]/);
});
