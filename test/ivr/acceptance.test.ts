/**
 * The IVR from the outside: virtual callers on the softswitch simulator,
 * reached through the real ari-client adapter; web users through the JSON
 * API and WebSocket. Each step asserts the text behind what the caller heard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseWav } from '../../src/sim/wav.js';
import { ROOT } from '../support/env.js';
import { ApiClient, WsClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

// Each test starts a whole platform with its simulator: slow when the machine is busy, never stuck.
t.setTimeout(360_000);

const REPLY_WAV = join(ROOT, 'test/fixtures/ivr/reply.wav');

t.test(
  "Bob dials in, hears Alice's two messages, replies by voice; Alice's WebSocket gets the voice message",
  async (t) => {
    const { url, sim, bob, audio: sound } = await ivrOnSimulator(t);
    const aliceApi = await ApiClient.login(url, 'alice');
    const aliceWs = await WsClient.connect(url, aliceApi.token);
    const created = await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
    const sessionId = (created.body as { id: string }).id;
    await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Are you coming tonight?' });
    await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Bring the tickets.' });

    const caller = sim.placeCall({ from: '+15550101', to: '100' });
    const call = new Transcript(caller, sound);
    await call.hears(/^Welcome back, Bob\. Please enter your PIN/);
    await caller.pressKeys('2468#');
    await call.hears(/^You have 2 new messages\.$/);
    t.match(await call.hears(/^From Alice/), /^From Alice, today at \d\d:\d\d\.$/);
    await call.hears(/^Are you coming tonight\?$/);
    await call.hears(/^Press 1 to hear it again, 5 to reply/);
    await caller.pressKeys('5');
    await call.hears(/^Record your reply after the tone/);
    await caller.speak(REPLY_WAV);
    await caller.pressKeys('#');
    await call.hears(/^Press 1 to send it/);
    await caller.pressKeys('1');
    await call.hears(/^Your reply was sent\.$/);

    const frame = await aliceWs.next((f) => f.type === 'message' && (f.message as { kind: string }).kind === 'voice');
    const message = frame.message as { fromUserId: number; audioUrl: string; sessionId: string };
    t.equal(message.fromUserId, bob.id, 'from Bob');
    t.equal(message.sessionId, sessionId, 'in the session of the message he answered');
    const res = await fetch(message.audioUrl);
    t.equal(res.status, 200, 'the audio URL serves');
    const served = parseWav(Buffer.from(await res.arrayBuffer()));
    const spoken = parseWav(readFileSync(REPLY_WAV));
    t.ok(served && spoken, 'both are WAV files');
    t.ok(
      Math.abs((served?.durationMs ?? 0) - (spoken?.durationMs ?? 0)) < 600,
      `the same length: served ${served?.durationMs} ms, spoken ${spoken?.durationMs} ms`,
    );

    await call.hears(/^Bring the tickets\.$/);
    await caller.pressKeys('*9');
    await call.hears(/^Goodbye\.$/);
    t.equal((await caller.ended).by, 'app', 'the IVR hung up after goodbye');
    await aliceWs.close();
  },
);

t.test('wrong PIN three times: locked, goodbye, hung up', async (t) => {
  const { sim, audio: sound } = await ivrOnSimulator(t);
  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, sound);
  await call.hears(/^Welcome back, Bob/);
  await caller.pressKeys('1111#');
  await call.hears(/^That PIN is not right\.$/);
  await call.hears(/^You have 2 tries left\.$/);
  await caller.pressKeys('9999#');
  await call.hears(/^You have 1 try left\.$/);
  await caller.pressKeys('1357#');
  await call.hears(/^Too many wrong tries\. Your account is locked/);
  await call.hears(/^Goodbye\.$/);
  t.equal((await caller.ended).by, 'app');
});

t.test('keys during prompts stop them (barge-in); silence repeats, then a polite goodbye', async (t) => {
  const { sim, audio: sound } = await ivrOnSimulator(t, { speedFactor: 5 });
  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, sound);
  await call.hears(/^Welcome back, Bob/);
  await caller.pressKeys('2468#', { gapMs: 0 });
  await call.hears(/^You have no new messages\.$/);
  await call.hears(/^Main menu\./);
  await caller.pressKeys('5');
  await call.hears(/^That is not an option\.$/);
  const barged = caller.playbacks.find((p) => sound.textFor(p.media.slice(6))?.startsWith('Main menu'));
  t.ok(barged?.bargedIn, 'the main menu stopped at the key');
  await call.hears(/^Main menu\./);
  await call.hears(/^I did not hear a key\.$/, 15000);
  await call.hears(/^Main menu\./);
  await call.hears(/^Sorry, I could not understand your choice\.$/, 15000);
  await call.hears(/^Goodbye\.$/);
  t.equal((await caller.ended).by, 'app');
});
