/**
 * A playback or recording whose finished event never comes (the simulator
 * drops PlaybackFinished and RecordingFinished) does not hold the call: its
 * watchdog ends it as failed and the flow goes on.
 */
import t from 'tap';
import { ApiClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

t.setTimeout(360_000);

t.test('with every finished event lost, Bob still hears his message and is told the reply failed', async (t) => {
  const { url, sim, audio } = await ivrOnSimulator(t, {
    telephony: { playbackWatchdogSeconds: 1, recordingWatchdogMarginSeconds: 1 },
    ivr: { recordMaxSeconds: 1 },
  });
  const alice = await ApiClient.login(url, 'alice');
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Lunch at one?' });

  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, audio);
  await call.hears(/^Welcome back, Bob/);
  await call.hears(/^Please enter your PIN/);
  await caller.pressKeys('2468#');
  await call.hears(/^You have 1 new message\.$/);
  sim.softswitch.dropFinishedEvents = true;
  await call.hears(/^Lunch at one\?$/);
  await caller.pressKeys('5');
  await call.hears(/^Record your reply after the tone/);
  await call.hears(/^Sorry, your reply could not be sent\.$/);
  t.ok(caller.isUp, 'the call goes on');
  t.notOk(
    call.heard.some((h) => /something went wrong/i.test(h)),
    'never "Sorry, something went wrong"',
  );
  await caller.hangup();
});
