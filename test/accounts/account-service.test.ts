import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AccountService, isTrivialPin, PHONE_REACH_TTL_MS } from '../../src/accounts/account-service.js';
import { verifySecret } from '../../src/accounts/secrets.js';
import { ManualClock } from '../../src/core/clock.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { openSqliteStore } from '../../src/store/index.js';
import { testConfig } from '../support/env.js';

function setup(t: Test) {
  const dir = t.testdir({});
  const config = testConfig(dir, { phone: { areaCode: '555' } });
  const store = openSqliteStore({ path: join(dir, 'db.sqlite'), nodeId: 'test' });
  const db = store.db;
  t.teardown(() => store.close());
  const clock = new ManualClock();
  /** Every KDF check, with the hash it was checked against: the cost of a try, counted rather than timed. */
  const kdf: string[] = [];
  const accounts = new AccountService({
    repo: store.accounts,
    clock,
    config,
    log: silentLogger(),
    verifySecret: (secret, stored) => {
      kdf.push(stored);
      return verifySecret(secret, stored);
    },
  });
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const hashOf = (userId: number, kind: string) =>
    (db.prepare('SELECT hash FROM credentials WHERE user_id = ? AND kind = ?').get(userId, kind) as { hash: string })
      .hash;
  return { accounts, clock, db, count, kdf, hashOf, store };
}

const rejects = async (t: Test, p: Promise<unknown>, code: ErrorCode, pattern?: RegExp) =>
  t.rejects(p, pattern ? { code, message: pattern } : { code });

t.test('a user is created with hashed credentials and a normalised caller ID', async (t) => {
  const { accounts, db } = setup(t);
  const bob = await accounts.createUser({
    username: 'Bob',
    displayName: 'Bob Smith',
    pin: '2468',
    password: 'correct horse',
    callerIds: ['(555) 010-0101', '+1 555 010 0101'],
    timeZone: 'America/New_York',
  });
  t.equal(bob.username, 'bob');
  t.equal(bob.spokenName, 'Bob Smith', 'spoken name defaults to the display name');
  t.match(bob.accountNumber, /^\d{6}$/);
  t.same(await accounts.callerIds(bob.id), ['+15550100101'], 'duplicates folded into one number');
  const hashes = db.prepare('SELECT hash FROM credentials').all() as { hash: string }[];
  t.equal(hashes.length, 2);
  for (const h of hashes) {
    t.match(h.hash, /^scrypt\$/);
    t.notMatch(h.hash, /2468|correct horse/);
  }
  t.equal((await accounts.lookupCaller('555-010-0101'))?.username, 'bob');
  t.equal(await accounts.lookupCaller('anonymous'), null);
});

t.test('PIN policy: 4-10 digits, nothing trivial', async (t) => {
  const { accounts } = setup(t);
  for (const pin of ['1111', '1234', '4321', '0123456789', '9876', '000000'])
    t.ok(isTrivialPin(pin), `${pin} is trivial`);
  for (const pin of ['2468', '1357', '1243', '90210']) t.notOk(isTrivialPin(pin), `${pin} is fine`);
  for (const pin of ['123', '12345678901', '12a4', '', '1111', '1234'])
    await rejects(t, accounts.createUser({ username: 'x1', displayName: 'X', pin }), 'ACCOUNTS_PIN_WEAK');
  await rejects(
    t,
    accounts.createUser({ username: 'x1', displayName: 'X', password: 'short' }),
    'ACCOUNTS_PASSWORD_WEAK',
  );
});

t.test('wrong PINs lock out after 3 tries and unlock after the configured time', async (t) => {
  const { accounts, clock } = setup(t);
  await accounts.createUser({ username: 'bob', displayName: 'Bob', pin: '2468', callerIds: ['5550100101'] });
  t.match(await accounts.validateCallerPin('5550100101', '1357'), {
    ok: false,
    reason: 'bad-credentials',
    triesLeft: 2,
  });
  t.match(await accounts.validateCallerPin('5550100101', '1357'), {
    ok: false,
    reason: 'bad-credentials',
    triesLeft: 1,
  });
  const third = await accounts.validateCallerPin('5550100101', '1357');
  t.match(third, { ok: false, reason: 'locked', lockedUntil: clock.now() + 300_000 });
  t.match(
    await accounts.validateCallerPin('5550100101', '2468'),
    { ok: false, reason: 'locked' },
    'the right PIN is refused while locked',
  );
  clock.advance(299_999);
  t.match(await accounts.validateCallerPin('5550100101', '2468'), { ok: false, reason: 'locked' });
  clock.advance(1);
  t.match(await accounts.validateCallerPin('5550100101', '2468'), { ok: true, user: { username: 'bob' } });
  t.match(
    await accounts.validateCallerPin('5550100101', '1357'),
    { ok: false, triesLeft: 2 },
    'success reset the count',
  );
});

t.test('12 wrong secrets and the right one at once: at most 3 are checked, the right one is refused', async (t) => {
  const { accounts, kdf, hashOf } = setup(t);
  const bob = await accounts.createUser({
    username: 'bob',
    displayName: 'Bob',
    pin: '2468',
    password: 'correct horse battery',
    callerIds: ['5550100101'],
  });
  const realPassword = hashOf(bob.id, 'password');
  const wrong = Array.from({ length: 12 }, (_, i) => accounts.validatePassword('bob', `wrong password ${i}`));
  const right = accounts.validatePassword('bob', 'correct horse battery');
  const answers = await Promise.all([...wrong, right]);
  t.match(answers.at(-1), { ok: false, reason: 'locked' }, 'the right password, sent after 12 wrong ones, is refused');
  t.equal(answers.filter((a) => a.ok).length, 0);
  t.equal(kdf.filter((h) => h === realPassword).length, 3, 'only 3 secrets were checked against the real hash');
  t.equal(kdf.length, 13, 'yet every try cost one KDF check');

  kdf.length = 0;
  const realPin = hashOf(bob.id, 'pin');
  const pins = ['1357', '9753', '8642', '1470', '2580', '3690', '1593', '7531', '9513', '3579', '1199', '7788'];
  const pinAnswers = await Promise.all([
    ...pins.map((p) => accounts.validateCallerPin('5550100101', p)),
    accounts.validateCallerPin('5550100101', '2468'),
  ]);
  t.match(pinAnswers.at(-1), { ok: false, reason: 'locked' }, 'parallel PIN tries: the right PIN is refused');
  t.equal(kdf.filter((h) => h === realPin).length, 3, 'only 3 PINs were checked');
});

t.test('known and unknown accounts give the same answers at the same cost', async (t) => {
  const { accounts, kdf, clock } = setup(t);
  const bob = await accounts.createUser({
    username: 'bob',
    displayName: 'Bob',
    pin: '2468',
    password: 'hunter2hunter2',
  });
  await accounts.createUser({ username: 'ann', displayName: 'Ann' });
  const long = 'x'.repeat(300);
  const script = async (tryOne: (secret: string) => Promise<unknown>) => {
    const out: { answer: unknown; kdf: number }[] = [];
    for (const secret of ['wrong one', long, 'wrong two', 'wrong three', long]) {
      const before = kdf.length;
      const answer = await tryOne(secret);
      out.push({ answer, kdf: kdf.length - before });
    }
    return out;
  };
  const known = await script((s) => accounts.validatePassword('bob', s));
  const unknown = await script((s) => accounts.validatePassword('nobody', s));
  const noPassword = await script((s) => accounts.validatePassword('ann', s));
  t.same(unknown, known, 'an unknown username: the same answers, tries left and lock, at the same KDF cost');
  t.same(noPassword, known, 'a user without a password: the same');
  t.match(known, [
    { answer: { reason: 'bad-credentials', triesLeft: 2 }, kdf: 1 },
    { answer: { reason: 'bad-credentials', triesLeft: 1 }, kdf: 1 },
    { answer: { reason: 'locked' }, kdf: 1 },
    { answer: { reason: 'locked' }, kdf: 1 },
    { answer: { reason: 'locked' }, kdf: 1 },
  ]);
  const pinKnown = await script((s) => accounts.validateAccountPin(bob.accountNumber, s));
  const pinUnknown = await script((s) => accounts.validateAccountPin('999999', s));
  t.same(pinUnknown, pinKnown, 'an unknown account number answers as a known one');
  clock.advance(300_000);
  t.match(await accounts.validatePassword('nobody', 'wrong'), { reason: 'bad-credentials', triesLeft: 2 });
  t.match(await accounts.validatePassword('bob', 'hunter2hunter2'), { ok: true }, 'the lock lifts after its time');
});

t.test('an admin unlock clears the lock-out', async (t) => {
  const { accounts } = setup(t);
  const u = await accounts.createUser({ username: 'bob', displayName: 'Bob', pin: '2468' });
  for (let i = 0; i < 3; i++) await accounts.validateAccountPin(u.accountNumber, '9999');
  t.match(await accounts.validateAccountPin(u.accountNumber, '2468'), { reason: 'locked' });
  t.ok((await accounts.lockState(u.id)).find((l) => l.kind === 'pin')?.lockedUntil);
  await accounts.unlock('bob');
  t.match(await accounts.validateAccountPin(u.accountNumber, '2468'), { ok: true });
});

t.test('unknown callers, accounts and users', async (t) => {
  const { accounts } = setup(t);
  const u = await accounts.createUser({ username: 'bob', displayName: 'Bob', pin: '2468', password: 'hunter2hunter2' });
  t.same(await accounts.validateCallerPin('5550109999', '2468'), { ok: false, reason: 'unknown-caller' });
  t.match(await accounts.validateAccountPin('999999', '2468'), { ok: false, reason: 'bad-credentials' });
  t.match(await accounts.validateAccountPin('12#4', '2468'), { ok: false, reason: 'bad-credentials' });
  t.match(await accounts.validateAccountPin(u.accountNumber, '2468'), { ok: true });
  t.match(await accounts.validatePassword('nobody', 'x'), { ok: false, reason: 'bad-credentials' });
  t.match(await accounts.validatePassword('bad name!', 'x'), { ok: false, reason: 'bad-credentials' });
  t.match(await accounts.validatePassword('BOB', 'hunter2hunter2'), { ok: true });
  t.match(await accounts.validatePassword('bob', 'hunter2'), { ok: false, triesLeft: 2 });
  t.match(await accounts.validateCallerPin('5550109999', '2468'), { reason: 'unknown-caller' });
  const noPin = await accounts.createUser({ username: 'ann', displayName: 'Ann' });
  t.match(
    await accounts.validateAccountPin(noPin.accountNumber, '2468'),
    { ok: false, reason: 'bad-credentials' },
    'no PIN set',
  );
});

t.test('bad names and numbers get a clear error and write nothing', async (t) => {
  const { accounts, count } = setup(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ displayName: '' }, /display name is empty/],
    [{ displayName: 'x'.repeat(65) }, /display name is longer than 64/],
    [{ displayName: 'Bob\u0007' }, /display name contains control characters/],
    [{ displayName: 'Bo\ufffdb' }, /display name is not valid UTF-8/],
    [{ displayName: 'Bo\ud800b' }, /display name is not valid UTF-8/],
    [{ spokenName: 'line\nbreak' }, /spoken name contains control characters/],
    [{ username: '' }, /username is empty/],
    [{ username: '9lives' }, /username must be/],
    [{ timeZone: 'Mars/Olympus' }, /not a known IANA time zone/],
    [{ callerIds: ['555-CALL'] }, /phone number "555-CALL"/],
    [{ callerIds: ['5550100101', ''] }, /phone number is empty/],
    [{ accountNumber: '12' }, /account number must be 4-12 digits/],
  ];
  for (const [fields, message] of cases)
    await rejects(
      t,
      accounts.createUser({ username: 'carol', displayName: 'Carol', pin: '2468', ...fields } as never),
      'ACCOUNTS_INVALID_INPUT',
      message,
    );
  t.equal(count('users'), 0);
  t.equal(count('credentials'), 0);
  t.equal(count('caller_ids'), 0);
});

t.test('conflicts: username, caller ID, account number', async (t) => {
  const { accounts, count } = setup(t);
  await accounts.createUser({ username: 'bob', displayName: 'Bob', callerIds: ['5550100101'], accountNumber: '4444' });
  await rejects(t, accounts.createUser({ username: 'bob', displayName: 'B2' }), 'ACCOUNTS_USER_EXISTS');
  await rejects(
    t,
    accounts.createUser({ username: 'bo2', displayName: 'B2', accountNumber: '4444' }),
    'ACCOUNTS_USER_EXISTS',
  );
  await rejects(
    t,
    accounts.createUser({ username: 'bo2', displayName: 'B2', callerIds: ['+15550100101'] }),
    'ACCOUNTS_CALLER_ID_TAKEN',
  );
  const ann = await accounts.createUser({ username: 'ann', displayName: 'Ann' });
  await t.rejects(accounts.addCallerId('ann', '555 010 0101'), { code: 'ACCOUNTS_CALLER_ID_TAKEN' });
  t.equal(await accounts.addCallerId('ann', '555 010 0202'), '+15550100202');
  t.equal(await accounts.addCallerId('ann', '5550100202'), '+15550100202', 'adding twice is harmless');
  t.ok(await accounts.removeCallerId(ann.id, '5550100202'));
  t.equal(count('users'), 2);
  t.equal(count('caller_ids'), 1);
});

t.test('users are found, updated and removed with everything bound to them', async (t) => {
  const { accounts, count } = setup(t);
  const u = await accounts.createUser({ username: 'bob', displayName: 'Bob', pin: '2468', callerIds: ['5550100101'] });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  t.equal((await accounts.findUser(u.accountNumber))?.id, u.id);
  t.equal((await accounts.findUser(u.id))?.id, u.id);
  t.equal(await accounts.findUser('nobody'), null);
  t.match(await accounts.updateUser('bob', { spokenName: 'Robert', timeZone: 'Europe/London' }), {
    spokenName: 'Robert',
    timeZone: 'Europe/London',
  });
  await t.rejects(accounts.updateUser('bob', { displayName: '' }), /display name is empty/);
  await accounts.setPin('bob', '1357');
  t.match(await accounts.validateAccountPin(u.accountNumber, '1357'), { ok: true });
  await accounts.setPassword('bob', 'a long password');
  t.match(await accounts.validatePassword('bob', 'a long password'), { ok: true });
  await accounts.removeUser('bob');
  await t.rejects(accounts.getUser('bob'), { code: 'ACCOUNTS_USER_NOT_FOUND' });
  for (const table of ['users', 'credentials', 'caller_ids', 'devices']) t.equal(count(table), 0, `${table} emptied`);
});

t.test('who may hear messages by phone: kept, dropped by a change here, seen from another node in time', async (t) => {
  const { accounts, clock, store } = setup(t);
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob' });
  const carol = await accounts.createUser({ username: 'carol', displayName: 'Carol', callerIds: ['5550177'] });
  t.equal(await accounts.mayHearByPhone(bob.id), false, 'no phone, no caller ID');
  t.equal(await accounts.mayHearByPhone(carol.id), true, 'a caller ID to log on from');
  const phone = await accounts.addDevice('bob', { kind: 'phone', address: '5550188' });
  t.equal(await accounts.mayHearByPhone(bob.id), true, 'a phone added here counts at once');
  await accounts.removeDevice('bob', phone.id);
  t.equal(await accounts.mayHearByPhone(bob.id), false, 'and its removal');
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  t.equal(await accounts.mayHearByPhone(bob.id), false, 'an email address is no phone');
  await accounts.addCallerId('bob', '5550199');
  t.equal(await accounts.mayHearByPhone(bob.id), true, 'a caller ID added here counts at once');
  await accounts.removeCallerId('bob', '5550199');
  t.equal(await accounts.mayHearByPhone(bob.id), false, 'and its removal');

  // Another node (another service on the same store) adds a phone: this node sees it once its answer expires.
  const other = new AccountService({
    repo: store.accounts,
    clock,
    config: testConfig(t.testdir({}), { phone: { areaCode: '555' } }),
    log: silentLogger(),
  });
  await other.addDevice('bob', { kind: 'phone', address: '5550166' });
  t.equal(await accounts.mayHearByPhone(bob.id), false, 'this node still holds its answer');
  clock.advance(PHONE_REACH_TTL_MS);
  t.equal(await accounts.mayHearByPhone(bob.id), true, 'read again once it expired');
});
