/**
 * The IVR from the outside, continued (split from acceptance.test.ts so that
 * each file stays short on a busy machine): a hang-up in every state, and live
 * chat heard as it arrives.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import t from 'tap';
import type { Simulator, VirtualCaller } from '../../src/sim/index.js';
import { eventually, ROOT } from '../support/env.js';
import { ApiClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

// Each test starts a whole platform with its simulator: slow when the machine is busy, never stuck.
t.setTimeout(360_000);

const REPLY_WAV = join(ROOT, 'test/fixtures/ivr/reply.wav');

const STATES: [string, (c: VirtualCaller, call: Transcript, sim: Simulator) => Promise<void>][] = [
  ['during the greeting', async (_c, call) => void (await call.hears(/^Welcome back/))],
  ['while keying the PIN', async (c) => c.pressKeys('24')],
  [
    'during a message',
    async (c, call) => {
      await c.pressKeys('2468#');
      await call.hears(/^A long story/);
    },
  ],
  [
    'while recording a reply',
    async (c, call, sim) => {
      await c.pressKeys('2468#');
      await call.hears(/^A long story/);
      await c.pressKeys('5');
      await call.hears(/^Record your reply/);
      await eventually(() => assert.ok(sim.softswitch.liveRecordings.size > 0, 'the recording started'));
    },
  ],
  [
    'while reviewing a reply',
    async (c, call) => {
      await c.pressKeys('2468#');
      await call.hears(/^A long story/);
      await c.pressKeys('5');
      await call.hears(/^Record your reply/);
      await c.speak(REPLY_WAV);
      await c.pressKeys('#');
      await call.hears(/^Press 1 to send it/);
    },
  ],
  [
    'in the main menu',
    async (c, call) => {
      await c.pressKeys('2468#*');
      await call.hears(/^Main menu/);
    },
  ],
  [
    'in a live chat',
    async (c, call) => {
      await c.pressKeys('2468#8');
      await call.hears(/^Messages will be read/);
    },
  ],
];

t.test('hang-up in every state leaves nothing behind: no flow, link, recording or reply', async (t) => {
  const { sim, bob, alice, platform, ivr, audio: sound } = await ivrOnSimulator(t);
  const presence = platform.services.presence;
  const s = await presence.createSession(alice.id, [bob.id]);
  for (const [state, step] of STATES) {
    await presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text: 'A long story about many things.' });
    const caller = sim.placeCall({ from: '+15550101', to: '100' });
    await step(caller, new Transcript(caller, sound), sim);
    await caller.hangup();
    await eventually(() => assert.equal(ivr.activeCalls, 0), { timeoutMs: 3000 }).catch(() => undefined);
    t.equal(ivr.activeCalls, 0, `${state}: the flow ended`);
    t.equal(presence.linksOf(bob.id).length, 0, `${state}: the phone link closed`);
    t.equal(sim.softswitch.storedRecordings.size, 0, `${state}: no recording left on the PBX`);
    t.ok(
      (await presence.history(alice.id, s.id)).every((m) => m.fromUserId === alice.id),
      `${state}: no reply posted`,
    );
    t.equal(platform.callControl.isConnected, true, `${state}: the adapter is fine`);
  }
});

t.test('live chat: a message typed on the web is heard on the phone as it arrives', async (t) => {
  const { url, sim, audio: sound } = await ivrOnSimulator(t);
  const aliceApi = await ApiClient.login(url, 'alice');
  const created = await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Can you talk?' });
  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, sound);
  await caller.pressKeys('2468#');
  await call.hears(/^Can you talk\?$/);
  await caller.pressKeys('8');
  await call.hears(/^You are in a chat with Alice\.$/);
  await call.hears(/^Messages will be read/);
  await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Great, I am here.' });
  await call.hears(/^Alice says: Great, I am here\.$/);
  await caller.hangup();

  const again = sim.placeCall({ from: '+15550101', to: '100' });
  const call2 = new Transcript(again, sound);
  await again.pressKeys('2468#');
  await call2.hears(/^You were in a chat with Alice\.$/);
  await again.pressKeys('1');
  await call2.hears(/^You are in a chat with Alice\.$/);
  await again.hangup();
});
