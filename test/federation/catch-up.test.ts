/**
 * The durable per-peer queue: B is SIGKILLed while A and C keep writing to a
 * session B's Bob is in; their queues for B hold what B missed; once B is
 * back on the same address, each queue catches up in order, and Bob reads
 * every message exactly once. An event delivered again (a retry after a lost
 * answer) is applied once, by its id.
 */
import t from 'tap';
import { loadOrCreateKey } from '../../src/federation/keys.js';
import { signRequest } from '../../src/federation/signing.js';
import { eventually } from '../support/env.js';
import {
  acceptWhenInvited,
  type CommunityProcess,
  communityProcess,
  counts,
  queuedFor,
  federate,
  messagesAt,
  type SessionView,
  setUpCommunity,
  texts,
} from '../support/federation.js';
import { ApiClient } from '../support/presence.js';

/** Messages each of A and C sends while B is down. */
const N = 3;
const numbered = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}${i + 1}`);

t.test('B comes back after a SIGKILL and receives what it missed, each event once', async (t) => {
  const [dirA, dirB, dirC] = await Promise.all([
    setUpCommunity(t, 'a.example', ['alice']),
    setUpCommunity(t, 'b.example', ['bob']),
    setUpCommunity(t, 'c.example', ['carol']),
  ]);
  const [a, b0, c] = (await Promise.all([
    communityProcess(t, 'a.example', dirA),
    communityProcess(t, 'b.example', dirB),
    communityProcess(t, 'c.example', dirC),
  ])) as [CommunityProcess, CommunityProcess, CommunityProcess];
  await federate([a, b0, c]);
  const alice = await ApiClient.login(a.url, 'alice');
  const carol = await ApiClient.login(c.url, 'carol');
  let bob = await ApiClient.login(b0.url, 'bob');
  const made = await alice.call('POST', '/api/v1/federation/invite', { to: ['bob@b.example', 'carol@c.example'] });
  const sessionId = (made.body as SessionView).id;
  await acceptWhenInvited(bob, sessionId);
  await acceptWhenInvited(carol, sessionId);
  await eventually(
    async () => {
      const r = await alice.call('GET', `/api/v1/sessions/${sessionId}`);
      if ((r.body as SessionView).members.filter((m) => m.state === 'joined').length !== 3) throw new Error('not yet');
    },
    { timeoutMs: 15_000 },
  );
  t.equal((await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'before' })).status, 201);
  await eventually(async () => {
    if (!texts(await messagesAt(bob, sessionId)).includes('before')) throw new Error('not yet');
    // B stored it before answering; A takes it off its queue when the answer reaches it.
    if (queuedFor(a.dir, 'b.example').length !== 0) throw new Error('A has not had B answer yet');
  });

  // B dies without a word
  await b0.kill();
  for (let i = 1; i <= N; i++) {
    t.equal((await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: `A${i}` })).status, 201);
    t.equal((await carol.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: `C${i}` })).status, 201);
  }
  // A and C keep what B missed in their queues (and their users still talk to each other)
  const queued = await eventually(
    async () => {
      const got = texts(await messagesAt(alice, sessionId));
      if (!got.includes(`C${N}`)) throw new Error('carol not at alice yet');
      const n = [queuedFor(a.dir, 'b.example'), queuedFor(c.dir, 'b.example')];
      if (n[0]?.length !== N || n[1]?.length !== N) throw new Error(`queued ${JSON.stringify(n)}`);
      return n;
    },
    { timeoutMs: 15_000 },
  );
  t.same(
    queued,
    [numbered('message:A'), numbered('message:C')],
    'A and C each queue their own messages for B, in order',
  );
  const peerShow = JSON.parse((await a.ctl(['--json', 'peer', 'show', 'b.example'])).stdout) as {
    queued: number;
    lastError: string | null;
  };
  t.equal(peerShow.queued, N, 'phonectl peer show counts the queue');
  t.match(peerShow.lastError, /b\.example did not answer/, 'and says why it is waiting');

  // B comes back on the same address and data
  const port = new URL(b0.url).port;
  const b = await communityProcess(t, 'b.example', dirB, { port: Number(port) });
  bob = await ApiClient.login(b.url, 'bob');
  const got = await eventually(
    async () => {
      const got = texts(await messagesAt(bob, sessionId));
      if (!got.includes(`A${N}`) || !got.includes(`C${N}`)) throw new Error(`bob has ${got.length}`);
      return got;
    },
    { timeoutMs: 30_000 },
  );
  t.same(
    got.filter((x) => x?.startsWith('A')),
    numbered('A'),
    "Alice's messages in order",
  );
  t.same(
    got.filter((x) => x?.startsWith('C')),
    numbered('C'),
    "Carol's messages in order",
  );
  t.equal(got.length, 1 + 2 * N, `each exactly once (before, ${N} from A, ${N} from C)`);
  await eventually(() => {
    if (counts(a.dir).federation_outbox + counts(c.dir).federation_outbox > 0) throw new Error('still queued');
  });

  // the same event again (an answer lost on the way back): applied once
  const before = counts(b.dir);
  const aKey = loadOrCreateKey(a.dir);
  const url = `${b.url}/federation/v1/events`;
  const event = {
    id: 'a.example/m/999999',
    type: 'message',
    sessionId,
    from: 'alice@a.example',
    fromName: 'Alice',
    text: 'once',
    audioUrl: null,
    at: Date.now(),
  };
  const answers = [];
  for (let i = 0; i < 2; i++) {
    const body = JSON.stringify({ events: [event] });
    const headers = await signRequest({
      method: 'POST',
      url,
      body,
      keyId: 'a.example',
      privateKey: aKey.privateKey,
      now: Date.now(),
    });
    const r = await fetch(url, { method: 'POST', headers, body });
    answers.push(await r.json());
  }
  t.same(answers, [
    { applied: 1, duplicates: 0 },
    { applied: 0, duplicates: 1 },
  ]);
  t.equal(counts(b.dir).messages, before.messages + 1, 'one message stored');
  t.equal(texts(await messagesAt(bob, sessionId)).filter((x) => x === 'once').length, 1, 'Bob reads it once');
});
