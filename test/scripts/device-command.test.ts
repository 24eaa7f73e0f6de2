/** `phonectl device add|set --asterisk-device`: a phone names the Asterisk device or hint whose state is its user's. */
import t from 'tap';
import { phonectl } from '../support/cli.js';

t.test('an admin ties a desk phone to its Asterisk device, changes it, and is told when it is malformed', async (t) => {
  const dir = t.testdir({});
  const run = phonectl(dir);
  await run(['user', 'add', 'bob', '--name', 'Bob']);
  let r = await run([
    '--json',
    'device',
    'add',
    'bob',
    'phone',
    '+1 555 010 0199',
    '--label',
    'desk',
    '--asterisk-device',
    'PJSIP/bob-desk',
  ]);
  t.equal(r.code, 0, r.stderr);
  const desk = JSON.parse(r.stdout);
  t.equal(desk.asteriskDevice, 'PJSIP/bob-desk');

  r = await run([
    'device',
    'set',
    'bob',
    String(desk.id),
    '--asterisk-device',
    '201@phoneim-hints',
    '--quiet',
    '22:00-07:00',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    new RegExp(`1\\s+${desk.id}\\s+phone\\s+-\\s+\\+15550100199\\s+desk\\s+22:00-07:00\\s+201@phoneim-hints`),
  );

  r = await run(['device', 'set', 'bob', String(desk.id), '--asterisk-device', 'PJSIP/bob desk; rm -rf']);
  t.equal(r.code, 1);
  t.match(r.stderr, /neither an Asterisk device \(PJSIP\/bob-desk\) nor a hint .*\[ACCOUNTS_INVALID_INPUT\]/);

  r = await run(['device', 'add', 'bob', 'email', 'bob@example.org', '--asterisk-device', 'PJSIP/x']);
  t.equal(r.code, 1);
  t.match(r.stderr, /only phones have an Asterisk device/);

  r = await run(['--json', 'device', 'add', 'bob', 'email', 'bob@example.org']);
  const mail = JSON.parse(r.stdout);
  r = await run(['device', 'set', 'bob', String(mail.id), '--asterisk-device', 'PJSIP/x']);
  t.match(r.stderr, /only phones have an Asterisk device/);
  r = await run(['device', 'set', 'bob', String(mail.id)]);
  t.match(r.stderr, /nothing to change/);

  r = await run(['device', 'set', 'bob', '99', '--label', 'x']);
  t.match(r.stderr, /has no device 99 \[ACCOUNTS_DEVICE_NOT_FOUND\]/);

  r = await run(['--json', 'device', 'set', 'bob', String(desk.id), '--asterisk-device', 'none', '--quiet', 'none']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { asteriskDevice: null, quietStart: null, label: 'desk' });
});
