/**
 * What a key writes (a message marked read) goes out after the play request
 * that answers the key, and is never dropped on a failure: it is tried again,
 * and the call goes on meanwhile.
 */
import assert from 'node:assert/strict';
import t from 'tap';
import type { IvrMessage } from '../../src/ivr/ports.js';
import { eventually } from '../support/env.js';
import { setupIvr } from './support/doubles.js';

const BOB = '+15550100101';

t.test('a mark-read that fails is tried again; the caller is not kept waiting for it', async (t) => {
  const { control, presence, bob, alice } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'one');
  presence.addMessage('s1', alice.id, bob.id, 'two');
  const markRead = presence.markRead.bind(presence);
  let failures = 0;
  // What the caller had heard when the write finally went through (its retries pause 200 then 400 ms).
  let heardWhenWritten: string[] | undefined;
  presence.markRead = (userId: number, ids: string[]) => {
    if (failures++ < 2) throw new Error('store unavailable');
    heardWhenWritten = [...call.heard];
    markRead(userId, ids);
  };
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^one$/);
  call.press('6');
  await call.hears(/^two$/);
  await eventually(() =>
    assert.deepEqual(
      (presence.unread(bob.id) as IvrMessage[]).map((m) => m.text),
      ['two'],
    ),
  );
  t.equal(failures, 3, 'two failures, then written');
  t.ok(heardWhenWritten?.includes('two'), 'the next message was heard before the failing write went through');
  call.press('*');
  await call.hears(/^Main menu\./);
  call.press('9');
  await call.hears(/^Goodbye\.$/);
  await call.ended;
});

t.test('a write that keeps failing is given up after its tries; the call ends normally', async (t) => {
  const { control, presence, bob, alice, ivr } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'one');
  let tries = 0;
  presence.markRead = () => {
    tries++;
    throw new Error('store unavailable');
  };
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^one$/);
  call.press('*');
  await call.hears(/^Main menu\./);
  call.press('9');
  await call.hears(/^Goodbye\.$/);
  t.match(await call.ended, { by: 'local' }, 'the IVR hung up after goodbye');
  await eventually(() => assert.equal(ivr.activeCalls, 0));
  t.equal(tries, 5, 'tried five times');
  t.same(
    (presence.unread(bob.id) as IvrMessage[]).map((m) => m.text),
    ['one'],
    'still unread: heard again next time',
  );
});
