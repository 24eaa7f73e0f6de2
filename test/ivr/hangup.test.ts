/**
 * The caller hangs up in every state of the call: the flow stops at once and
 * leaves nothing behind - no timer, no key or message listener, no open link,
 * no recording on the PBX, no half-sent message.
 */
import t from 'tap';
import type { FakeCall } from './support/doubles.js';
import { setupIvr } from './support/doubles.js';

const BOB = '+15550100101';

type Step = (call: FakeCall) => Promise<void>;

const logOn: Step = async (call) => {
  await call.hears(/^Welcome back, Bob/);
  call.press('2468#');
};

const states: [string, Step][] = [
  [
    'during the greeting',
    async (call) => {
      await call.hears(/^Welcome back/);
    },
  ],
  [
    'while keying the PIN',
    async (call) => {
      await call.hears(/^Welcome back/);
      call.press('24');
    },
  ],
  [
    'while the PIN is checked',
    async (call) => {
      await call.hears(/^Welcome back/);
      call.press('2468#');
    },
  ],
  [
    'during the message count',
    async (call) => {
      await logOn(call);
      await call.hears(/^You have 1 new/);
    },
  ],
  [
    'during a message',
    async (call) => {
      await logOn(call);
      await call.hears(/^From Alice/);
    },
  ],
  [
    'while recording a reply',
    async (call) => {
      await logOn(call);
      await call.hears(/^Press 1 to hear it again/);
      call.press('5');
      await call.recordingStarts();
      call.speak(Buffer.from('half a reply'));
    },
  ],
  [
    'while reviewing a reply',
    async (call) => {
      await logOn(call);
      await call.hears(/^Press 1 to hear it again/);
      call.press('5');
      await call.recordingStarts();
      call.speak(Buffer.from('a reply'));
      call.press('#');
      await call.hears(/^Press 1 to send it/);
    },
  ],
  [
    'in the main menu',
    async (call) => {
      await logOn(call);
      call.press('*');
      await call.hears(/^Main menu/);
    },
  ],
  [
    'in the presence menu',
    async (call) => {
      await logOn(call);
      call.press('*3');
      await call.hears(/^Press 1 for online/);
    },
  ],
  [
    'choosing a contact',
    async (call) => {
      await logOn(call);
      call.press('*4');
      await call.hears(/^For Alice/);
    },
  ],
  [
    'in a live chat, waiting',
    async (call) => {
      await logOn(call);
      call.press('8');
      await call.hears(/^Messages will be read/);
      await new Promise((r) => setTimeout(r, 20));
    },
  ],
  [
    'while saying goodbye',
    async (call) => {
      await logOn(call);
      call.press('*9');
      await call.hears(/^Goodbye/);
    },
  ],
];

for (const [name, step] of states) {
  t.test(`hang-up ${name}`, async (t) => {
    const { control, presence, bob, alice, clock, ivr, idle, audio } = await setupIvr(t);
    presence.addMessage('s1', alice.id, bob.id, 'hello there');
    const call = control.dial(BOB);
    call.playMs = 30;
    await step(call);
    const contexts = ivr.contexts;
    call.remoteHangup();
    await idle();
    t.equal(ivr.activeCalls, 0, 'the flow ended');
    t.equal(clock.pending, 0, 'no timer left');
    t.equal(call.dtmfListeners, 0, 'no key listener left');
    for (const ctx of contexts) t.equal(ctx.listenerCount, 0, 'no message or barge-in listener left');
    t.equal(presence.links.size, 0, 'the phone link is closed');
    t.equal(control.stored.size, 0, 'no recording left on the PBX');
    t.same(presence.posted, [], 'no half-sent reply');
    t.same(audio.stored, [], 'nothing stored for a reply that was not sent');
  });
}

t.test('a reply being sent when the caller hangs up is sent whole', async (t) => {
  const { control, presence, bob, alice, audio, idle } = await setupIvr(t);
  presence.addMessage('s1', alice.id, bob.id, 'hello there');
  const call = control.dial(BOB);
  await logOn(call);
  await call.hears(/^Press 1 to hear it again/);
  call.press('5');
  await call.recordingStarts();
  call.speak(Buffer.from('a reply'));
  call.press('#');
  await call.hears(/^Press 1 to send it/);
  audio.storeDelayMs = 100;
  call.press('1');
  await new Promise((r) => setTimeout(r, 30));
  call.remoteHangup();
  await idle();
  t.equal(presence.posted.length, 1, 'posted once');
  t.equal(audio.stored.length, 1, 'stored once');
  t.equal(control.stored.size, 0, 'and removed from the PBX');
});
