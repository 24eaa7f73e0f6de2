/**
 * A voice message across communities: Alice of A records a reply; B fetches
 * its audio once with the signed URL A sent, keeps it, and Bob plays it from
 * B. A peer that points at audio anywhere but its own server is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadOrCreateKey } from '../../src/federation/keys.js';
import { signRequest } from '../../src/federation/signing.js';
import { eventually, ROOT } from '../support/env.js';
import { counts, federate, inProcessCommunity } from '../support/federation.js';
import { ApiClient, makeUsers } from '../support/presence.js';

t.test('a voice message from A is played from B', async (t) => {
  const a = await inProcessCommunity(t, 'a.example');
  const b = await inProcessCommunity(t, 'b.example');
  await federate([a, b]);
  const pa = a.platform!.services;
  const pb = b.platform!.services;
  const { alice } = await makeUsers(a.platform!, ['alice']);
  const { bob } = await makeUsers(b.platform!, ['bob']);
  const session = await pa.federation.invite(alice, ['bob@b.example']);
  await eventually(() => {
    if (pb.presence.sessionsOf(bob).length === 0) throw new Error('not invited yet');
  });
  pb.presence.accept(session.id, bob);
  await eventually(() => {
    if (pa.presence.members(session.id).some((m) => m.state !== 'joined')) throw new Error('not joined yet');
  });

  const wav = readFileSync(join(ROOT, 'test/fixtures/ivr/reply.wav'));
  const rec = await pa.audio.storeRecording({ data: wav, userId: alice, sessionId: session.id });
  await pa.presence.postMessage({
    sessionId: session.id,
    fromUserId: alice,
    voice: { audioId: rec.id, url: rec.wavUrl, text: 'a voice message' },
  });
  const bobApi = await ApiClient.login(b.url, 'bob');
  const voice = await eventually(async () => {
    const r = await bobApi.call('GET', `/api/v1/sessions/${session.id}/messages`);
    const m = (r.body as { messages: { kind: string; audioUrl: string | null }[] }).messages.find(
      (x) => x.kind === 'voice',
    );
    if (!m?.audioUrl) throw new Error('no voice message yet');
    return m;
  });
  t.ok(voice.audioUrl?.startsWith(`${b.url}/audio/`), 'Bob plays it from his own server');
  const fromB = await fetch(voice.audioUrl as string);
  t.equal(fromB.status, 200);
  t.match(fromB.headers.get('content-type'), /^audio\/(x-)?wav/);
  const fromA = await fetch(rec.wavUrl);
  const [x, y] = [Buffer.from(await fromB.arrayBuffer()), Buffer.from(await fromA.arrayBuffer())];
  t.ok(x.length > 1000 && Math.abs(x.length - y.length) < 64, 'the same recording (as kept by each side)');

  // a URL on another server is refused, and changes nothing
  const before = counts(b.dir);
  const url = `${b.url}/federation/v1/events`;
  const body = JSON.stringify({
    events: [
      {
        id: 'a.example/m/evil',
        type: 'message',
        sessionId: session.id,
        from: 'alice@a.example',
        fromName: 'Alice',
        text: null,
        audioUrl: 'http://169.254.169.254/latest/meta-data',
        at: Date.now(),
      },
    ],
  });
  const headers = await signRequest({
    method: 'POST',
    url,
    body,
    keyId: 'a.example',
    privateKey: loadOrCreateKey(a.dir).privateKey,
    now: Date.now(),
  });
  const r = await fetch(url, { method: 'POST', headers, body });
  t.equal(r.status, 403);
  t.match(await r.json(), { error: { code: 'FEDERATION_FORBIDDEN', details: { eventId: 'a.example/m/evil' } } });
  t.same(counts(b.dir), before, 'nothing changed on B');
});
