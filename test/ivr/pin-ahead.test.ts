/**
 * The PIN verified while it is keyed: a caller whose caller ID is known has
 * each candidate of the PIN's length checked in the background, so that `#`
 * finds the answer ready. The rules a caller meets are those of a check at
 * `#`: a wrong PIN is refused and counted, the right one logs on, a locked
 * account is refused, a PIN changed during the call counts from then on, and
 * no call runs more than a few KDF checks however many digits it keys.
 */
import assert from 'node:assert/strict';
import t from 'tap';
import { MAX_PIN_GUESSES } from '../../src/accounts/account-service.js';
import { verifySecret } from '../../src/accounts/secrets.js';
import { eventually } from '../support/env.js';
import { setupIvr } from './support/doubles.js';

const BOB = '+15550100101';

/** The real KDF check, with the candidates it was asked about (in the test only: never a log). */
function countingKdf() {
  const checked: string[] = [];
  return {
    checked,
    verifySecret: (secret: string, stored: string) => {
      checked.push(secret);
      return verifySecret(secret, stored);
    },
  };
}

t.test("Bob keys his PIN: it is checked before '#', and '#' logs him on with no second check", async (t) => {
  const kdf = countingKdf();
  const { control, presence, bob, alice, idle } = await setupIvr(t, {}, kdf);
  presence.addMessage('s1', alice.id, bob.id, 'Are you coming tonight?');
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('2468');
  await eventually(() => assert.deepEqual(kdf.checked, ['2468']));
  t.pass('the PIN was checked as soon as it had four digits, before #');
  call.press('#');
  await call.hears(/^You have 1 new message\.$/);
  await call.hears(/^Are you coming tonight\?$/);
  t.same(kdf.checked, ['2468'], "'#' found the answer ready: one KDF check in the call");
  t.equal(presence.unreadReads, 1, 'the unread list was read once, while the PIN was keyed');
  call.remoteHangup();
  await call.ended;
  await idle();
});

t.test('a wrong PIN checked ahead is still refused and counted; the right one then logs on', async (t) => {
  const kdf = countingKdf();
  const { control, accounts, bob, idle } = await setupIvr(t, {}, kdf);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('1357');
  await eventually(() => assert.deepEqual(kdf.checked, ['1357']));
  call.press('#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^You have 2 tries left\.$/);
  t.equal((await accounts.lockState(bob.id)).find((s) => s.kind === 'pin')?.failedCount, 1, 'the try was counted');
  await call.hears(/^Please enter your PIN/);
  call.press('2468#');
  await call.hears(/^You have no new messages\.$/);
  t.equal((await accounts.lockState(bob.id)).find((s) => s.kind === 'pin')?.failedCount, 0, 'success cleared it');
  t.same(kdf.checked, ['1357', '2468'], 'each candidate checked once');
  call.remoteHangup();
  await call.ended;
  await idle();
});

t.test('the same wrong PIN keyed twice is checked twice: a check ahead answers one try only', async (t) => {
  const kdf = countingKdf();
  const { control, accounts, bob, idle } = await setupIvr(t, {}, kdf);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('1357#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^Please enter your PIN/);
  call.press('1357#');
  await call.hears(/^You have 1 try left\.$/);
  t.equal((await accounts.lockState(bob.id)).find((s) => s.kind === 'pin')?.failedCount, 2);
  t.equal(kdf.checked.filter((s) => s === '1357').length, 2);
  call.remoteHangup();
  await call.ended;
  await idle();
});

t.test('a caller keying digit after digit runs at most a few KDF checks, and a too-long PIN is refused', async (t) => {
  const kdf = countingKdf();
  const { control, idle } = await setupIvr(t, {}, kdf);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('2468013579');
  await call.hears(/^That PIN is not right\.$/);
  t.equal(kdf.checked.length, MAX_PIN_GUESSES + 1, 'the first candidates ahead, then the entry itself at the end');
  t.equal(kdf.checked.at(-1), '2468013579', 'what was keyed decided: 2468 was only the start of it');
  call.remoteHangup();
  await call.ended;
  await idle();
});

t.test('a locked PIN is not checked ahead, and the right PIN is refused while locked', async (t) => {
  const kdf = countingKdf();
  const { control, accounts, idle } = await setupIvr(t, {}, kdf);
  for (const pin of ['1111', '9999', '1212']) await accounts.validateCallerPin(BOB, pin);
  kdf.checked.length = 0;
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('2468');
  call.press('#');
  await call.hears(/^Too many wrong tries\. Your account is locked/);
  t.same(kdf.checked, ['2468'], 'one check, of the decoy as for every locked try: none ahead');
  await call.ended;
  await idle();
});

t.test('a PIN changed while the caller keys it: the old one is refused at #, the new one accepted', async (t) => {
  const kdf = countingKdf();
  const { control, accounts, idle } = await setupIvr(t, {}, kdf);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('2468');
  await eventually(() => assert.deepEqual(kdf.checked, ['2468']));
  await accounts.setPin('bob', '7531');
  call.press('#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^Please enter your PIN/);
  call.press('7531#');
  await call.hears(/^You have no new messages\.$/);
  call.remoteHangup();
  await call.ended;
  await idle();
});
