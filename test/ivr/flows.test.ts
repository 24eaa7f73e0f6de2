/**
 * Call flows as transcripts, over in-memory doubles of the PBX, audio and
 * presence (real accounts in SQLite). What the caller hears is the text the
 * audio service was asked to speak for each playback.
 */
import assert from 'node:assert/strict';
import t from 'tap';
import type { IvrMessage } from '../../src/ivr/ports.js';
import { eventually } from '../support/env.js';
import { setupIvr } from './support/doubles.js';

const BOB = '+15550100101';
const VOICE = Buffer.from('RIFF-reply-audio');

t.test('Bob logs on by caller ID, hears two messages, replies by voice and sends', async (t) => {
  const { control, presence, bob, alice, audio, idle } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'Are you coming tonight?', Date.now() - 60_000);
  presence.addMessage('s1', alice.id, bob.id, 'Call me back', Date.now() - 30_000);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\. Please enter your PIN, then press pound\.$/);
  call.press('2468#');
  await call.hears(/^You have 2 new messages\.$/);
  // The link opens just after the first playback after '#' is requested (the caller does not wait for it).
  await eventually(() => assert.equal(presence.states.get(bob.id), 'on-the-phone'));
  t.pass('the call is a phone link: on the phone');
  await call.hears(/^First message\.$/);
  t.match(await call.hears(/^From Alice/), /^From Alice, today at \d\d:\d\d\.$/);
  await call.hears(/^Are you coming tonight\?$/);
  await call.hears(/^Press 1 to hear it again, 5 to reply/);
  call.press('5');
  await call.hears(/^Record your reply after the tone/);
  await call.recordingStarts();
  call.speak(VOICE);
  call.press('#');
  await call.hears(/^Press 1 to send it, 2 to listen to it/);
  call.press('1');
  await call.hears(/^Your reply was sent\.$/);
  t.same(presence.posted, [
    { sessionId: 's1', fromUserId: bob.id, voice: { audioId: 'rec1', url: 'http://audio.test/rec/rec1.wav' } },
  ]);
  t.same(audio.stored[0]?.data, VOICE, 'the audio server stored the bytes fetched from the PBX');
  t.equal(audio.stored[0]?.userId, bob.id);
  t.same(audio.linked, [{ id: 'rec1', messageId: 'p1', sessionId: 's1' }], 'the recording is linked to its message');
  t.equal(control.stored.size, 0, 'the recording was deleted from the PBX once stored');
  await call.hears(/^Last message\.$/);
  await call.hears(/^Call me back$/);
  call.press('6');
  await call.hears(/^No more new messages\.$/);
  await call.hears(/^Main menu\./);
  call.press('9');
  await call.hears(/^Goodbye\.$/);
  const end = await call.ended;
  t.equal(end.by, 'local');
  await idle();
  t.same(await presence.unread(bob.id), [], 'both messages are read');
  t.equal(presence.states.get(bob.id), 'offline', 'the link closed with the call');
  t.equal(call.dtmfListeners, 0, 'no key listener left');
  t.equal(call.maxOverlap, 1, 'never two prompts at once');
});

t.test('a caller from an unknown phone keys account number and PIN', async (t) => {
  const { control, presence, bob } = await setupIvr(t);
  const call = control.dial('+15550199999');
  await call.hears(/^Welcome to phone messaging\.$/);
  await call.hears(/^Please enter your account number/);
  call.press('100200#');
  await call.hears(/^Please enter your PIN/);
  call.press('1111#');
  await call.hears(/^That account number and PIN do not match\.$/);
  await call.hears(/^Please enter your account number/);
  call.press('100200#');
  await call.hears(/^Please enter your PIN/);
  call.press('2468#');
  await call.hears(/^You have no new messages\.$/);
  await call.hears(/^Main menu\./);
  t.equal(presence.states.get(bob.id), 'on-the-phone');
  call.remoteHangup();
});

t.test('an unknown caller who keeps guessing is sent away after three tries', async (t) => {
  const { control, idle } = await setupIvr(t);
  const call = control.dial('anonymous');
  // A different number each time: one unknown number tried three times locks, as a real account does.
  for (let i = 0; i < 3; i++) {
    await call.hears(/^Please enter your account number/);
    call.press(`99999${i}#`);
    await call.hears(/^Please enter your PIN/);
    call.press('2468#');
  }
  await call.hears(/^Sorry, I could not understand your choice\.$/);
  await call.hears(/^Goodbye\.$/);
  await call.ended;
  await idle();
});

t.test('an unknown account number guessed three times locks as a real one does', async (t) => {
  const { control, idle } = await setupIvr(t);
  const call = control.dial('anonymous');
  for (let i = 0; i < 3; i++) {
    await call.hears(/^Please enter your account number/);
    call.press('999999#');
    await call.hears(/^Please enter your PIN/);
    call.press('2468#');
  }
  await call.hears(/^Too many wrong tries\. Your account is locked/);
  await call.ended;
  await idle();
});

t.test('a wrong PIN three times locks the account: the caller hears so and goodbye', async (t) => {
  const { control, accounts, bob, idle } = await setupIvr(t);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob/);
  call.press('1111#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^You have 2 tries left\.$/);
  await call.hears(/^Please enter your PIN/);
  call.press('9999#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^You have 1 try left\.$/);
  call.press('1212#');
  await call.hears(/^Too many wrong tries\. Your account is locked/);
  await call.hears(/^Goodbye\.$/);
  t.equal((await call.ended).by, 'local');
  await idle();
  t.ok(
    (await accounts.lockState(bob.id)).find((s) => s.kind === 'pin')?.lockedUntil,
    'the account server locked the PIN',
  );

  const again = control.dial(BOB);
  await again.hears(/^Welcome back, Bob/);
  again.press('2468#');
  await again.hears(/^Too many wrong tries\. Your account is locked/);
  await again.ended;
});

t.test('silence: the question is asked again, then a polite goodbye after three tries', async (t) => {
  const { control, idle } = await setupIvr(t);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob/);
  await call.hears(/^I did not hear a key\.$/);
  await call.hears(/^Please enter your PIN/);
  await call.hears(/^I did not hear a key\.$/);
  await call.hears(/^Please enter your PIN/);
  await call.hears(/^Sorry, I could not understand your choice\.$/);
  await call.hears(/^Goodbye\.$/);
  await call.ended;
  await idle();
  t.same(
    call.heard,
    [
      'Welcome back, Bob. Please enter your PIN, then press pound.',
      'I did not hear a key.',
      'Please enter your PIN, then press pound.',
      'I did not hear a key.',
      'Please enter your PIN, then press pound.',
      'Sorry, I could not understand your choice.',
      'Goodbye.',
    ],
    'the whole call, in order',
  );
});

t.test('main menu: a wrong key says so and repeats the options; silence three times ends the call', async (t) => {
  const { control } = await setupIvr(t);
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^You have no new messages\.$/);
  await call.hears(/^Main menu\./);
  call.press('5');
  await call.hears(/^That is not an option\.$/);
  await call.hears(/^Main menu\./);
  await call.hears(/^I did not hear a key\.$/);
  await call.hears(/^Main menu\./);
  await call.hears(/^Sorry, I could not understand your choice\.$/);
  await call.hears(/^Goodbye\.$/);
  await call.ended;
});

t.test('keys during a prompt stop it at once and count (barge-in, type-ahead)', async (t) => {
  const { control, presence, bob, alice } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'A very long message that takes a while to read');
  const call = control.dial(BOB);
  call.playMs = 60_000; // every prompt would last a minute if keys did not stop it
  await call.hears(/^Welcome back, Bob/);
  const started = Date.now();
  call.press('2468#');
  await call.hears(/^You have 1 new message\.$/, 2000);
  call.press('6'); // keyed during "You have 1 new message": skips to the next message at once
  await call.hears(/^No more new messages\.$/, 2000);
  call.playMs = 5;
  call.press('9');
  await call.hears(/^Goodbye\.$/, 2000);
  await call.ended;
  t.ok(Date.now() - started < 5000, 'no prompt was played to its end');
  t.same(await presence.unread(bob.id), [], 'the skipped message counts as heard');
});

t.test('message keys: replay, delete, back to the main menu', async (t) => {
  const { control, presence, bob, alice } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'one');
  presence.addMessage('s1', alice.id, bob.id, 'two');
  presence.addMessage('s1', alice.id, bob.id, 'three');
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^You have 3 new messages\.$/);
  await call.hears(/^one$/);
  call.press('1');
  await call.hears(/^First message\.$/);
  await call.hears(/^one$/);
  call.press('7');
  await call.hears(/^Message deleted\.$/);
  await call.hears(/^Message 2\.$/);
  await call.hears(/^two$/);
  call.press('*');
  await call.hears(/^Main menu\./);
  // Read and deleted are written just after the next play request goes out (the caller does not wait for them).
  await eventually(() =>
    assert.deepEqual(
      (presence.unread(bob.id) as IvrMessage[]).map((m) => m.text),
      ['three'],
    ),
  );
  t.pass('one read, one deleted, one still new');
  t.ok(presence.messages.find((m) => m.text === 'one')?.dismissed);
  call.press('1');
  await call.hears(/^You have 1 new message\.$/);
  await call.hears(/^Message\.$/);
  call.remoteHangup();
});

t.test('review of a reply: listen, record again, cancel - nothing is posted or kept', async (t) => {
  const { control, presence, bob, alice, audio, idle } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'hello');
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^hello$/);
  call.press('5');
  await call.recordingStarts();
  call.speak(VOICE);
  call.press('#');
  await call.hears(/^Press 1 to send it/);
  call.press('2');
  const played = await call.hears(/^recording:/);
  t.match(played, /^recording:reply-/, 'the recording is played back from the PBX');
  await call.hears(/^Press 1 to send it/);
  call.press('3');
  await call.recordingStarts();
  call.speak(VOICE);
  call.press('#');
  await call.hears(/^Press 1 to send it/);
  call.press('*');
  await call.hears(/^Your reply was cancelled\.$/);
  call.remoteHangup();
  await idle();
  t.same(presence.posted, [], 'nothing posted');
  t.same(audio.stored, [], 'nothing stored');
  t.equal(control.stored.size, 0, 'no recording left on the PBX');
  t.equal(control.deleted.length, 2, 'both takes deleted');
});

t.test('who is online, presence by keypad', async (t) => {
  const { control, presence, bob, alice } = await setupIvr(t);
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^Main menu\./);
  call.press('2');
  await call.hears(/^None of your contacts is online\.$/);
  await presence.setPresence(alice.id, 'away');
  await call.hears(/^Main menu\./);
  call.press('2');
  await call.hears(/^Alice is away\.$/);
  await call.hears(/^Main menu\./);
  call.press('3');
  await call.hears(/^Press 1 for online, 2 for away/);
  call.press('3');
  await call.hears(/^Your presence is now busy\.$/);
  t.equal(presence.states.get(bob.id), 'busy');
  await call.hears(/^Main menu\./);
  call.press('3');
  await call.hears(/^Press 1 for online/);
  call.press('*');
  await call.hears(/^Main menu\./);
  call.remoteHangup();
});

t.test('live chat by speed dial: messages read as they arrive, in order, never over each other', async (t) => {
  const { control, presence, bob, alice, idle, resume } = await setupIvr(t);
  const call = control.dial(BOB);
  call.press('2468#');
  await call.hears(/^Main menu\./);
  call.press('4');
  await call.hears(/^For Alice, press 1\.$/);
  call.press('1#');
  await call.hears(/^You are in a chat with Alice\.$/);
  await call.hears(/^Messages will be read as they arrive/);
  const session = `s-${bob.id}-${alice.id}`;
  t.same(await resume.recall(bob.id, Date.now()), { sessionId: session }, 'the position is remembered');
  call.playMs = 40;
  presence.send(session, alice.id, 'first');
  presence.send(session, alice.id, 'second');
  presence.send(session, alice.id, 'third');
  await call.hears(/^Alice says: first$/);
  await call.hears(/^Alice says: second$/);
  await call.hears(/^Alice says: third$/);
  t.equal(call.maxOverlap, 1, 'one message after the other');
  presence.send(session, alice.id, 'are you there?');
  await call.hears(/^Alice says: are you there\?$/);
  call.press('5');
  await call.recordingStarts();
  presence.send(session, alice.id, 'sent while Bob records');
  call.speak(VOICE);
  call.press('#');
  call.press('1');
  await call.hears(/^Your reply was sent\.$/);
  t.equal(presence.posted.length, 1);
  await call.hears(/^Alice says: sent while Bob records$/, 3000);
  call.press('*');
  await call.hears(/^You left the chat\.$/);
  t.equal(await resume.recall(bob.id, Date.now()), null, 'leaving forgets the position');
  await call.hears(/^Main menu\./);
  call.remoteHangup();
  await idle();
  t.same(await presence.unread(bob.id), [], 'every message read aloud is read');
});

t.test('calling again after hanging up in a chat offers to resume it', async (t) => {
  const { control, presence, bob, alice, idle } = await setupIvr(t);
  presence.join('s9', [bob.id, alice.id]);
  presence.addMessage('s9', alice.id, bob.id, 'welcome');
  const first = control.dial(BOB);
  first.press('2468#');
  await first.hears(/^welcome$/);
  first.press('8');
  await first.hears(/^You are in a chat with Alice\.$/);
  first.remoteHangup();
  await idle();
  presence.addMessage('s9', alice.id, bob.id, 'where did you go?');

  const again = control.dial(BOB);
  again.press('2468#');
  await again.hears(/^You were in a chat with Alice\.$/);
  await again.hears(/^Press 1 to go back to it, or 2 for the main menu\.$/);
  again.press('1');
  await again.hears(/^You are in a chat with Alice\.$/);
  await again.hears(/^Alice says: where did you go\?$/);
  again.remoteHangup();
  await idle();

  const third = control.dial(BOB);
  third.press('2468#');
  await third.hears(/^You were in a chat with Alice\.$/);
  third.press('2');
  await third.hears(/^You have no new messages\.$/);
  third.remoteHangup();
});

for (const fail of ['record', 'fetch', 'store'] as const)
  t.test(`a reply that cannot be ${fail}ed: the caller is told, nothing is posted or kept`, async (t) => {
    const { control, presence, bob, alice, audio, idle } = await setupIvr(t);
    presence.addMessage('s1', alice.id, bob.id, 'hello');
    const call = control.dial(BOB);
    call.press('2468#');
    await call.hears(/^hello$/);
    call.recordFails = fail === 'record';
    control.failFetch = fail === 'fetch';
    audio.failStore = fail === 'store';
    call.press('5');
    if (fail !== 'record') {
      await call.recordingStarts();
      call.speak(VOICE);
      call.press('#');
      await call.hears(/^Press 1 to send it/);
      call.press('1');
    }
    await call.hears(/^Sorry, your reply could not be sent\.$/);
    await call.hears(/^No more new messages\.$/);
    call.remoteHangup();
    await idle();
    t.same(presence.posted, [], 'nothing posted');
    t.same(audio.stored, [], 'nothing stored');
    t.equal(control.stored.size, 0, 'no recording left on the PBX');
  });

t.test('each key costs one playback, and what it leads to was rendered before the key', async (t) => {
  const { control, presence, bob, alice, audio } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'Are you coming tonight?', Date.now() - 60_000);
  presence.addMessage('s1', alice.id, bob.id, 'Call me back', Date.now() - 30_000);
  const call = control.dial(BOB);
  await call.hears(/^Welcome back, Bob\./);
  call.press('2468');
  const rendered = () => new Set(audio.asked);
  for (const text of ['You have 2 new messages.', 'First message.', 'Are you coming tonight?'])
    t.ok(rendered().has(text), `"${text}" was rendered while the PIN was keyed`);
  const before = call.playRequests;
  call.press('#');
  await call.hears(/^You have 2 new messages\.$/);
  await call.hears(/^Press 1 to hear it again/);
  t.equal(call.playRequests - before, 1, "the count, the first message and its options in one request after '#'");
  t.ok(rendered().has('Call me back'), 'the next message was rendered while the first played');
  const afterFirst = call.playRequests;
  call.press('6');
  await call.hears(/^Last message\.$/);
  await call.hears(/^Call me back$/);
  t.equal(call.playRequests - afterFirst, 1, "one request after '6'");
  call.press('6');
  await call.hears(/^No more new messages\.$/);
  await call.hears(/^Main menu\./);
  const known = rendered();
  call.press('2');
  const online = await call.hears(/online|on the phone/);
  t.ok(known.has(online), `"${online}" was rendered while the main menu played`);
  await call.hears(/^Main menu\./);
  call.remoteHangup();
});
