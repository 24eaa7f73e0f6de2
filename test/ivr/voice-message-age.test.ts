/**
 * A voice message is kept by its audio id and its URL signed when used: a
 * day and more after it was left, it is still heard by phone and served on
 * the web (a stored signed URL would have expired: 403).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { ROOT } from '../support/env.js';
import { ApiClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

t.setTimeout(360_000);

/** The platform's injected clock, moved forward at will; its timers run in real time. */
class MovedClock extends SystemClock {
  offsetMs = 0;
  override now(): number {
    return super.now() + this.offsetMs;
  }
}

t.test('a voice message left 31 hours ago is heard by phone and served on the web', async (t) => {
  const clock = new MovedClock();
  const { url, sim, audio, platform, alice } = await ivrOnSimulator(t, { clock });
  const aliceApi = await ApiClient.login(url, 'alice');
  const created = await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  const stored = await platform.services.audio.storeRecording({
    data: readFileSync(join(ROOT, 'test/fixtures/ivr/reply.wav')),
    userId: alice.id,
  });
  await platform.services.presence.postMessage({
    sessionId,
    fromUserId: alice.id,
    voice: { audioId: stored.id, url: stored.wavUrl },
  });
  t.equal((await fetch(stored.wavUrl)).status, 200, 'the URL serves today');

  // A signed URL lives 1 to 1.25 times audio.urlTtlSeconds (24-30 h): 31 h is past it at any time of day.
  clock.offsetMs = 31 * 3600 * 1000;
  t.equal((await fetch(stored.wavUrl)).status, 403, 'the URL signed then has expired');

  const bobApi = await ApiClient.login(url, 'bob');
  const history = await bobApi.call('GET', `/api/v1/sessions/${sessionId}/messages`);
  const voice = (history.body as { messages: { kind: string; audioUrl: string }[] }).messages.find(
    (m) => m.kind === 'voice',
  );
  t.ok(voice, 'the web lists the voice message');
  const served = await fetch(voice?.audioUrl as string);
  t.equal(served.status, 200, 'and its link serves the audio a day later');
  t.match(served.headers.get('content-type'), /^audio\//);

  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, audio);
  await call.hears(/^Welcome back, Bob/);
  await caller.pressKeys('2468#');
  await call.hears(/^You have 1 new message\.$/);
  await call.hears(/^From Alice/);
  await call.hears(new RegExp(`/audio/${stored.id}/`));
  const playback = caller.playbacks.find((p) => p.media.includes(`/audio/${stored.id}/`));
  const done = await playback?.done;
  t.equal(done?.state, 'done', 'the phone plays the voice message (not a 403 skipped in silence)');
  await caller.hangup();
});
