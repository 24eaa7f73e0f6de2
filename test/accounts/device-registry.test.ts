import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AccountService } from '../../src/accounts/account-service.js';
import { isQuiet, parseQuietHours } from '../../src/accounts/device-registry.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { openSqliteStore } from '../../src/store/index.js';
import { testConfig } from '../support/env.js';

async function setup(t: Test) {
  const dir = t.testdir({});
  const store = openSqliteStore({ path: join(dir, 'db.sqlite'), nodeId: 'test' });
  const db = store.db;
  t.teardown(() => store.close());
  const accounts = new AccountService({
    repo: store.accounts,
    clock: new ManualClock(),
    config: testConfig(dir),
    log: silentLogger(),
  });
  await accounts.createUser({ username: 'bob', displayName: 'Bob', timeZone: 'America/New_York' });
  return { accounts, db };
}

t.test('devices keep an escalation order that can be changed', async (t) => {
  const { accounts } = await setup(t);
  const mobile = await accounts.addDevice('bob', {
    kind: 'phone',
    address: '(555) 010-0101',
    label: 'mobile',
    quietHours: '22:00-07:00',
  });
  const pager = await accounts.addDevice('bob', { kind: 'pager', protocol: 'snpp', address: 'PAGER-17' });
  const sms = await accounts.addDevice('bob', { kind: 'pager', protocol: 'smpp', address: '555 010 0199' });
  const mail = await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  t.match(mobile, { kind: 'phone', address: '+15550100101', position: 1, quietStart: '22:00', quietEnd: '07:00' });
  t.match(sms, { address: '+15550100199', protocol: 'smpp', position: 3 });
  t.same(
    (await accounts.orderDevices('bob', [mail.id, mobile.id, pager.id, sms.id])).map((d) => [d.id, d.position]),
    [
      [mail.id, 1],
      [mobile.id, 2],
      [pager.id, 3],
      [sms.id, 4],
    ],
  );
  await accounts.removeDevice('bob', mobile.id);
  t.same(
    (await accounts.listDevices('bob')).map((d) => [d.kind, d.position]),
    [
      ['email', 1],
      ['pager', 2],
      ['pager', 3],
    ],
    'the gap closes',
  );
});

t.test('bad devices are refused with a clear reason', async (t) => {
  const { accounts } = await setup(t);
  const bad: [Parameters<AccountService['addDevice']>[1], RegExp][] = [
    [{ kind: 'fax', address: '1' }, /device kind must be phone, pager or email/],
    [{ kind: 'email', address: 'bob@' }, /is not an email address/],
    [{ kind: 'email', address: 'bob@example.test\r\nBcc: x@y.test' }, /control characters/],
    [{ kind: 'pager', protocol: 'carrier-pigeon', address: '1' }, /pager protocol must be/],
    [{ kind: 'pager', protocol: 'snpp', address: 'a b' }, /SNPP pager id/],
    [{ kind: 'phone', address: '12' }, /phone number/],
    [{ kind: 'phone', address: '5550100101', protocol: 'snpp' }, /only pagers have a protocol/],
    [{ kind: 'phone', address: '5550100101', quietHours: '25:00-07:00' }, /must look like 22:00-07:00/],
    [{ kind: 'phone', address: '5550100101', quietHours: '07:00-07:00' }, /same time/],
  ];
  for (const [input, message] of bad)
    await t.rejects(accounts.addDevice('bob', input), { code: 'ACCOUNTS_INVALID_INPUT', message }, String(message));
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  await t.rejects(accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' }), /already registered/);
  await t.rejects(accounts.orderDevices('bob', [1, 1]), /give every device/);
  await t.rejects(accounts.removeDevice('bob', 999), { code: 'ACCOUNTS_DEVICE_NOT_FOUND' });
  await t.rejects(accounts.addDevice('nobody', { kind: 'email', address: 'a@b.test' }), {
    code: 'ACCOUNTS_USER_NOT_FOUND',
  });
});

t.test("quiet hours are read in the user's time zone, across midnight", async (t) => {
  const q = parseQuietHours('22:00-07:00');
  const device = { quietStart: q.start, quietEnd: q.end };
  // 03:00 UTC is 22:00 the day before in New York (UTC-5 in January).
  t.ok(isQuiet(device, 'America/New_York', Date.UTC(2026, 0, 10, 3, 0)));
  t.ok(isQuiet(device, 'America/New_York', Date.UTC(2026, 0, 10, 11, 59)));
  t.notOk(isQuiet(device, 'America/New_York', Date.UTC(2026, 0, 10, 12, 0)), '07:00 local is no longer quiet');
  t.notOk(isQuiet(device, 'UTC', Date.UTC(2026, 0, 10, 12, 0)));
  t.ok(isQuiet({ quietStart: '09:00', quietEnd: '17:00' }, 'UTC', Date.UTC(2026, 0, 10, 12, 0)));
  t.notOk(isQuiet({ quietStart: null, quietEnd: null }, 'UTC', 0));
});
