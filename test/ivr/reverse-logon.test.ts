/**
 * The reverse log-on call as the callee hears it, and the outcome the
 * notifier gets for each way the call can go.
 */
import t from 'tap';
import { silentLogger } from '../../src/core/logger.js';
import { IvrService } from '../../src/ivr/ivr-service.js';

const silent = silentLogger();
import type { ReverseLogonRequest } from '../../src/notify/reverse-logon-port.js';
import { setupIvr } from './support/doubles.js';

const request = (userId: number, over: Partial<ReverseLogonRequest> = {}): ReverseLogonRequest => ({
  alertId: 'a1',
  userId,
  phoneNumber: '+15550100101',
  senderSpokenName: 'Alice',
  senderUserId: 2,
  sessionId: 's1',
  messages: [{ id: 'm1', text: 'Lunch at noon?' }],
  ringSeconds: 20,
  leaveVoicemail: false,
  ...over,
});

t.test('1 accepts: the callee joins the session as a phone link and hears it live', async (t) => {
  const { control, presence, bob, alice, ivr, idle } = await setupIvr(t, { dialTemplate: 'PJSIP/{number}@trunk' });
  presence.join('s1', [alice.id]);
  const outcome = ivr.reverseLogon.call(request(bob.id, { senderUserId: alice.id }));
  await new Promise((r) => setTimeout(r, 5));
  const call = control.lastCall;
  if (!call) throw new Error('no call placed');
  t.match(control.originated[0], {
    endpoint: 'PJSIP/15550100101@trunk',
    timeoutSeconds: 20,
    appArgs: ['reverse-logon', 'a1'],
  });
  await call.hears(/^Hello\. Alice wants to chat with you\.$/);
  await call.hears(/^Lunch at noon\?$/);
  await call.hears(/^Press 1 to accept, 2 to decline, or 3 to hear it again\.$/);
  call.press('1');
  t.same(await outcome, { status: 'accepted' });
  await call.hears(/^You are now in the chat\.$/);
  await call.hears(/^You are in a chat with Alice\.$/);
  t.equal(presence.states.get(bob.id), 'on-the-phone');
  presence.send('s1', alice.id, 'great, see you');
  await call.hears(/^Alice says: great, see you$/);
  call.remoteHangup();
  await idle();
  t.equal(presence.links.size, 0);
});

t.test('3 replays, 2 declines and the session is told', async (t) => {
  const { control, presence, bob, ivr } = await setupIvr(t);
  const outcome = ivr.reverseLogon.call(
    request(bob.id, {
      messages: [
        { id: 'm1', text: 'one' },
        { id: 'm2', text: 'voice', audioUrl: 'http://a/v.wav' },
      ],
    }),
  );
  await new Promise((r) => setTimeout(r, 5));
  const call = control.lastCall as NonNullable<typeof control.lastCall>;
  await call.hears(/^one$/);
  await call.hears(/^sound:http:\/\/a\/v\.wav$/);
  await call.hears(/^Press 1 to accept/);
  call.press('3');
  await call.hears(/wants to chat with you/);
  await call.hears(/^one$/);
  await call.hears(/^Press 1 to accept/);
  call.press('2');
  t.same(await outcome, { status: 'declined' });
  await call.hears(/^You declined\. The sender will be told\.$/);
  await call.hears(/^Goodbye\.$/);
  t.same(presence.declined, [{ userId: bob.id, sessionId: 's1' }]);
});

t.test('no key at all is no-response after the tries; hang-up before choosing too', async (t) => {
  const { control, bob, ivr } = await setupIvr(t);
  const silent = ivr.reverseLogon.call(request(bob.id));
  t.same(await silent, { status: 'no-response' });
  await control.lastCall?.ended;
  t.match(control.lastCall?.heard.slice(-2), ['Sorry, I could not understand your choice.', 'Goodbye.']);

  const hangup = ivr.reverseLogon.call(request(bob.id));
  await new Promise((r) => setTimeout(r, 5));
  await control.lastCall?.hears(/wants to chat/);
  control.lastCall?.remoteHangup();
  t.same(await hangup, { status: 'no-response' });
});

t.test('busy, no answer and failure are outcomes', async (t) => {
  const { control, bob, ivr } = await setupIvr(t);
  control.answer = 'busy';
  t.same(await ivr.reverseLogon.call(request(bob.id)), { status: 'busy' });
  control.answer = 'no-answer';
  t.same(await ivr.reverseLogon.call(request(bob.id)), { status: 'no-answer' });
  control.answer = 'failed';
  t.match(await ivr.reverseLogon.call(request(bob.id)), { status: 'failed', reason: /Network out of order/ });
  t.match(await ivr.reverseLogon.call(request(999)), { status: 'failed', reason: /no user/ });
  const cancelled = new AbortController();
  cancelled.abort();
  t.same(await ivr.reverseLogon.call(request(bob.id), cancelled.signal), { status: 'failed', reason: 'cancelled' });
});

t.test('a malformed request is refused with a coded error', async (t) => {
  const { bob, ivr } = await setupIvr(t);
  for (const bad of [
    { phoneNumber: '5550100' },
    { messages: [] },
    { ringSeconds: 0 },
    { senderSpokenName: ' ' },
    { userId: 0 },
  ])
    await t.rejects(ivr.reverseLogon.call(request(bob.id, bad)), { code: 'IVR_BAD_REQUEST' });
});

t.test('an answering machine: a long greeting and no key', async (t) => {
  const { control, bob, ivr } = await setupIvr(t, { amdListenSeconds: 5, amdMachineSeconds: 3 });
  const outcome = ivr.reverseLogon.call(request(bob.id, { leaveVoicemail: true }));
  await new Promise((r) => setTimeout(r, 5));
  const call = control.lastCall as NonNullable<typeof control.lastCall>;
  await call.recordingStarts();
  call.endRecording(4); // "Hi, you've reached Bob, leave a message after the tone..." then the beep
  await call.hears(/^Hello\. Alice wants to chat with you\.$/);
  await call.hears(/^Lunch at noon\?$/);
  await call.hears(/^Call phone messaging to listen and reply/);
  t.same(await outcome, { status: 'machine', leftVoicemail: true });
  await call.ended;
  t.equal(control.stored.size, 0, 'the greeting recording was deleted');

  const noMessage = ivr.reverseLogon.call(request(bob.id));
  await new Promise((r) => setTimeout(r, 5));
  const second = control.lastCall as NonNullable<typeof control.lastCall>;
  await second.recordingStarts();
  second.endRecording(5);
  t.same(await noMessage, { status: 'machine', leftVoicemail: false });
  t.same(second.heard, [], 'nothing said to a machine when no voice mail is wanted');
});

t.test('a person says "Hello?" and pauses: the call goes on', async (t) => {
  const { control, bob, ivr } = await setupIvr(t, { amdListenSeconds: 5, amdMachineSeconds: 3 });
  const outcome = ivr.reverseLogon.call(request(bob.id));
  await new Promise((r) => setTimeout(r, 5));
  const call = control.lastCall as NonNullable<typeof control.lastCall>;
  await call.recordingStarts();
  call.endRecording(1);
  await call.hears(/^Press 1 to accept/);
  call.press('2');
  t.same(await outcome, { status: 'declined' });
});

t.test("the PBX's own AMD result is trusted when the dialplan ran AMD()", async (t) => {
  const { control, bob, ivr } = await setupIvr(t, { amdListenSeconds: 5 });
  control.variables = { AMDSTATUS: 'MACHINE' };
  t.same(await ivr.reverseLogon.call(request(bob.id)), { status: 'machine', leftVoicemail: false });
  control.variables = { AMDSTATUS: 'HUMAN' };
  const outcome = ivr.reverseLogon.call(request(bob.id));
  await new Promise((r) => setTimeout(r, 5));
  await control.lastCall?.hears(/^Press 1 to accept/);
  t.notOk(
    control.lastCall?.events.some((e) => e.kind === 'record'),
    'no listening needed',
  );
  control.lastCall?.press('1');
  t.same(await outcome, { status: 'accepted' });
  control.lastCall?.remoteHangup();
});

t.test('the notifier cancelling hangs the call up', async (t) => {
  const { control, bob, ivr, idle } = await setupIvr(t);
  const ac = new AbortController();
  const outcome = ivr.reverseLogon.call(request(bob.id), ac.signal);
  await new Promise((r) => setTimeout(r, 5));
  await control.lastCall?.hears(/wants to chat/);
  ac.abort();
  t.same(await outcome, { status: 'no-response' });
  t.equal((await control.lastCall?.ended)?.by, 'local');
  await idle();
  t.equal(ivr.activeCalls, 0);
});

t.test('without telephony the IVR says so instead of calling', async (t) => {
  const { bob, ivr, accounts, audio, presence, resume, clock, config } = await setupIvr(t);
  const idle = new IvrService({
    audio,
    presence,
    resume,
    accounts,
    clock,
    config,
    log: ivr.contexts[0]?.log ?? silent,
  });
  t.throws(() => idle.start(), { code: 'IVR_VERB_PRECONDITION', message: /telephony is not up/ });
  t.same(await idle.reverseLogon.call(request(bob.id)), { status: 'failed', reason: 'telephony is not running' });
});
