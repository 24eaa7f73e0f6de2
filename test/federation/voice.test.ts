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
  await eventually(async () => {
    if ((await pb.presence.sessionsOf(bob)).length === 0) throw new Error('not invited yet');
  });
  await pb.presence.accept(session.id, bob);
  await eventually(async () => {
    if ((await pa.presence.members(session.id)).some((m) => m.state !== 'joined')) throw new Error('not joined yet');
  });

  const wav = readFileSync(join(ROOT, 'test/fixtures/ivr/reply.wav'));
  const rec = await pa.audio.storeRecording({ data: wav, userId: alice, sessionId: session.id });
  await pa.presence.postMessage({
    sessionId: session.id,
    fromUserId: alice,
    voice: { audioId: rec.id, url: rec.wavUrl, text: 'a voice message' },
  });
  const bobApi = await ApiClient.login(b.url, 'bob');
  const voice = await eventually(
    async () => {
      const r = await bobApi.call('GET', `/api/v1/sessions/${session.id}/messages`);
      const m = (r.body as { messages: { kind: string; audioUrl: string | null }[] }).messages.find(
        (x) => x.kind === 'voice',
      );
      if (!m?.audioUrl) throw new Error('no voice message yet');
      return m;
    },
    { timeoutMs: 30_000 },
  ); // relayed, then its audio fetched from A: on a loaded machine, more than 10 s
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
  // malformed or out-of-bounds events: each refused with its code, nothing applied
  const send = async (events: unknown) => {
    const text = JSON.stringify({ events });
    const h = await signRequest({
      method: 'POST',
      url,
      body: text,
      keyId: 'a.example',
      privateKey: loadOrCreateKey(a.dir).privateKey,
      now: Date.now(),
    });
    const res = await fetch(url, { method: 'POST', headers: h, body: text });
    return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
  };
  const msg = {
    id: 'x1',
    type: 'message',
    sessionId: session.id,
    from: 'alice@a.example',
    fromName: 'A',
    text: 'hi',
    audioUrl: null,
    at: 1,
  };
  const cases: [string, unknown, number, string][] = [
    ['no events', [], 400, 'FEDERATION_BAD_REQUEST'],
    ['not a list', 'x', 400, 'FEDERATION_BAD_REQUEST'],
    ['an unknown type', [{ id: 'x2', type: 'weird', sessionId: 's' }], 400, 'FEDERATION_BAD_REQUEST'],
    [
      'a bad state',
      [{ id: 'x3', type: 'member', sessionId: session.id, address: 'zed@a.example', name: 'Z', state: 'boss' }],
      400,
      'FEDERATION_BAD_REQUEST',
    ],
    [
      'a bad member list',
      [{ ...msg, id: 'x4', type: 'invite', to: 'bob@b.example', community: 'A', members: [{}] }],
      400,
      'FEDERATION_BAD_REQUEST',
    ],
    ['a text that is not a string', [{ ...msg, id: 'x5', text: 5 }], 400, 'FEDERATION_BAD_REQUEST'],
    ['no id', [{ ...msg, id: '' }], 400, 'FEDERATION_BAD_REQUEST'],
    ['a message from a non-member', [{ ...msg, id: 'x6', from: 'zed@a.example' }], 403, 'FEDERATION_FORBIDDEN'],
    ['a message from another community', [{ ...msg, id: 'x7', from: 'carol@c.example' }], 403, 'FEDERATION_FORBIDDEN'],
    ['a message to an unknown session', [{ ...msg, id: 'x8', sessionId: 'nope' }], 403, 'FEDERATION_FORBIDDEN'],
    [
      'an invitation for another community',
      [{ ...msg, id: 'x9', type: 'invite', to: 'carol@c.example', community: 'A', members: [] }],
      403,
      'FEDERATION_FORBIDDEN',
    ],
    [
      'an invitation from another community',
      [
        {
          ...msg,
          id: 'x10',
          type: 'invite',
          from: 'carol@c.example',
          to: 'bob@b.example',
          community: 'A',
          members: [],
        },
      ],
      403,
      'FEDERATION_FORBIDDEN',
    ],
    [
      'a member event on an unknown session',
      [{ id: 'x11', type: 'member', sessionId: 'nope', address: 'alice@a.example', name: 'A', state: 'left' }],
      403,
      'FEDERATION_FORBIDDEN',
    ],
  ];
  for (const [what, events, status, code] of cases) {
    const res = await send(events);
    t.same(res, { status, code }, what);
  }
  t.same(counts(b.dir), before, 'nothing changed on B');
});
