/**
 * The reverse log-on through the simulator: the virtual callee answers and
 * presses a key, is busy, does not answer, or is an answering machine; each
 * gives the notifier the outcome that decides its next step.
 */
import t from 'tap';
import type { ReverseLogonRequest } from '../../src/notify/reverse-logon-port.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

// Each test starts a whole platform with its simulator: slow when the machine is busy, never stuck.
t.setTimeout(360_000);

const request = (userId: number, senderUserId: number, sessionId: string, over: Partial<ReverseLogonRequest> = {}) => ({
  alertId: 'alert-1',
  userId,
  phoneNumber: '+15550100199',
  senderSpokenName: 'Alice',
  senderUserId,
  sessionId,
  messages: [{ id: '1', text: 'Lunch at noon?' }],
  ringSeconds: 10,
  leaveVoicemail: false,
  ...over,
});

t.test('answers and presses 1: accepted, and the callee is in the live chat', async (t) => {
  const { platform, sim, audio, bob, alice } = await ivrOnSimulator(t, {
    ivr: { amdListenSeconds: 3, amdMachineSeconds: 2 },
  });
  const { presence } = platform.services;
  const s = await presence.createSession(alice.id, [bob.id]);
  await presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text: 'Lunch at noon?' });
  const callee = sim.setCallee('+15550100199', { behavior: 'answer', answerAfterMs: 500 });
  const outcome = platform.services.reverseLogon.call(request(bob.id, alice.id, s.id));
  const caller = await callee.nextCall(10_000);
  const call = new Transcript(caller, audio);
  await call.hears(/^Hello\. Alice wants to chat with you\.$/);
  await call.hears(/^Lunch at noon\?$/);
  await call.hears(/^Press 1 to accept/);
  await caller.pressKeys('1');
  t.same(await outcome, { status: 'accepted' });
  await call.hears(/^You are in a chat with Alice\.$/);
  t.equal((await presence.presenceOf(bob.id)).state, 'on-the-phone', 'the callee is a phone link');
  t.match(await presence.members(s.id), [
    { userId: alice.id, state: 'joined' },
    { userId: bob.id, state: 'joined' },
  ]);
  await presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text: 'See you there.' });
  await call.hears(/^Alice says: See you there\.$/);
  t.match(callee.attempts[0], { endpoint: 'PJSIP/+15550100199@trunk', appArgs: ['reverse-logon', 'alert-1'] });
  await caller.hangup();
});

t.test('presses 2: declined, and the session is told', async (t) => {
  const { platform, sim, bob, alice } = await ivrOnSimulator(t, { ivr: { amdListenSeconds: 0 } });
  const { presence } = platform.services;
  const s = await presence.createSession(alice.id, [bob.id]);
  sim.setCallee('+15550100199', { behavior: 'answer', keys: [{ afterMs: 3000, digits: '2' }] });
  t.same(await platform.services.reverseLogon.call(request(bob.id, alice.id, s.id)), { status: 'declined' });
  t.match(await presence.members(s.id), [{ userId: alice.id }, { userId: bob.id, state: 'declined' }]);
});

t.test('busy, no answer, and an answering machine', async (t) => {
  const { platform, sim, audio, bob, alice } = await ivrOnSimulator(t, {
    ivr: { amdListenSeconds: 6, amdMachineSeconds: 3 },
  });
  const s = await platform.services.presence.createSession(alice.id, [bob.id]);
  const port = platform.services.reverseLogon;
  sim.setCallee('+15550100199', { behavior: 'busy' });
  t.same(await port.call(request(bob.id, alice.id, s.id)), { status: 'busy' });
  sim.setCallee('+15550100199', { behavior: 'no-answer' });
  t.same(await port.call(request(bob.id, alice.id, s.id, { ringSeconds: 2 })), { status: 'no-answer' });
  const machine = sim.setCallee('+15550100199', { behavior: 'machine', greetingMs: 5000 });
  const left = port.call(request(bob.id, alice.id, s.id, { leaveVoicemail: true }));
  const tape = await machine.nextCall(10_000);
  t.same(await left, { status: 'machine', leftVoicemail: true });
  const heard = new Transcript(tape, audio);
  await heard.hears(/^Hello\. Alice wants to chat with you\.$/);
  await heard.hears(/^Call phone messaging to listen and reply/);
  t.equal(sim.softswitch.storedRecordings.size, 0, 'the greeting we listened to is not kept');
  sim.setCallee('+15550100199', { behavior: 'answer', answerAfterMs: 200 });
  t.same(await port.call(request(bob.id, alice.id, s.id)), { status: 'no-response' }, 'a person who never presses');
});
