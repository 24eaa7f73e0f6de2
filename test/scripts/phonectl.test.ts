import t from 'tap';
import { phonectl as cli } from '../support/cli.js';

t.test('an admin creates, lists, shows, locks and removes a user', async (t) => {
  const run = cli(t.testdir({}));
  let r = await run(
    [
      'user',
      'add',
      'bob',
      '--name',
      'Bob Smith',
      '--caller-id',
      '(555) 010-0101',
      '--pin-stdin',
      '--tz',
      'Europe/London',
    ],
    '2468\n',
  );
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /created user bob \(account number \d{6}\)/);

  r = await run(['user', 'list']);
  t.match(r.stdout, /USERNAME\s+ACCOUNT\s+NAME\s+TZ\s+ADMIN\n/);
  t.match(r.stdout, /bob\s+\d{6}\s+Bob Smith\s+Europe\/London\s+no\n/);

  r = await run(['--json', 'user', 'show', 'bob']);
  const shown = JSON.parse(r.stdout);
  t.match(shown, { username: 'bob', callerIds: ['+15550100101'], pin: 'set (0 failed tries)', password: 'not set' });
  t.notMatch(r.stdout, /2468/, 'the PIN is never shown');

  r = await run(['user', 'set-pin', 'bob', '1111']);
  t.equal(r.code, 1);
  t.match(r.stderr, /error: that PIN is too easy to guess .* \[ACCOUNTS_PIN_WEAK\]/);

  r = await run(['user', 'set-password', 'bob'], 'a good long password\n');
  t.equal(r.code, 0, r.stderr);
  r = await run(['user', 'unlock', 'bob']);
  t.match(r.stdout, /unlocked bob/);

  r = await run(['user', 'remove', 'bob']);
  t.match(r.stdout, /removed user bob/);
  r = await run(['user', 'show', 'bob']);
  t.equal(r.code, 1);
  t.match(r.stderr, /no user "bob" \[ACCOUNTS_USER_NOT_FOUND\]/);
  r = await run(['--json', 'user', 'list']);
  t.same(JSON.parse(r.stdout), []);
});

t.test('devices through the CLI, in order', async (t) => {
  const run = cli(t.testdir({}));
  await run(['user', 'add', 'ann', '--name', 'Ann']);
  let r = await run([
    '--json',
    'device',
    'add',
    'ann',
    'phone',
    '+44 20 7946 0958',
    '--label',
    'mobile',
    '--quiet',
    '22:00-07:00',
  ]);
  t.equal(r.code, 0, r.stderr);
  const phone = JSON.parse(r.stdout);
  r = await run(['--json', 'device', 'add', 'ann', 'pager', 'P-1', '--protocol', 'snpp']);
  const pager = JSON.parse(r.stdout);
  r = await run(['device', 'order', 'ann', String(pager.id), String(phone.id)]);
  t.match(r.stdout, new RegExp(`1\\s+${pager.id}\\s+pager\\s+snpp\\s+P-1`));
  t.match(r.stdout, new RegExp(`2\\s+${phone.id}\\s+phone\\s+-\\s+\\+442079460958\\s+mobile\\s+22:00-07:00`));
  r = await run(['device', 'add', 'ann', 'fax', '123']);
  t.equal(r.code, 1);
  t.match(r.stderr, /device kind must be phone, pager or email/);
  r = await run(['device', 'remove', 'ann', 'x']);
  t.match(r.stderr, /device id "x" is not a number/);
  r = await run(['device', 'remove', 'ann', String(phone.id)]);
  t.equal(r.code, 0);
  r = await run(['device', 'list', 'ann']);
  t.notMatch(r.stdout, /phone/);
});

t.test('db migrate and status; usage errors', async (t) => {
  const run = cli(t.testdir({}));
  let r = await run(['db', 'status']);
  t.match(r.stdout, /1\s+accounts\s+pending/);
  r = await run(['db', 'migrate']);
  t.match(r.stdout, /applied migrations 1/);
  r = await run(['db', 'migrate']);
  t.match(r.stdout, /is up to date/);
  r = await run(['--json', 'db', 'status']);
  t.match(JSON.parse(r.stdout), { current: Number, pending: [] });
  r = await run(['user', 'frobnicate']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown command/);
  r = await run(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /user\s+users and their credentials/);
});
