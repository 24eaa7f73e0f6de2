/**
 * Three communities as three processes on loopback, each with its own
 * database, key and port. Alice of A invites Bob of B and Carol of C into one
 * session; each accepts on their own server; messages from each reach the
 * other two in order. Dave of B declines another invitation, and A is told.
 */
import t from 'tap';
import { eventually } from '../support/env.js';
import {
  acceptWhenInvited,
  type CommunityProcess,
  communityProcess,
  counts,
  federate,
  messagesAt,
  type SessionView,
  setUpCommunity as setUp,
  texts,
} from '../support/federation.js';
import { ApiClient } from '../support/presence.js';

t.test('a session across three communities', async (t) => {
  const [dirA, dirB, dirC] = await Promise.all([
    setUp(t, 'a.example', ['alice']),
    setUp(t, 'b.example', ['bob', 'dave']),
    setUp(t, 'c.example', ['carol']),
  ]);
  const [a, b, c] = (await Promise.all([
    communityProcess(t, 'a.example', dirA),
    communityProcess(t, 'b.example', dirB),
    communityProcess(t, 'c.example', dirC),
  ])) as [CommunityProcess, CommunityProcess, CommunityProcess];
  await federate([a, b, c]);

  const alice = await ApiClient.login(a.url, 'alice');
  const bob = await ApiClient.login(b.url, 'bob');
  const carol = await ApiClient.login(c.url, 'carol');

  // a bad address, an unknown community, our own user: refused with a code, nothing sent
  const bad = await alice.call('POST', '/api/v1/federation/invite', { to: ['not an address'] });
  t.equal(bad.status, 400);
  t.match(bad.body, { error: { code: 'FEDERATION_INVALID_INPUT' } });
  const stranger = await alice.call('POST', '/api/v1/federation/invite', { to: ['zed@z.example'] });
  t.match(stranger.body, { error: { code: 'FEDERATION_PEER_NOT_FOUND' } });
  t.equal(counts(a.dir).im_sessions, 0, 'no session was made');

  const made = await alice.call('POST', '/api/v1/federation/invite', { to: ['bob@b.example', 'carol@c.example'] });
  t.equal(made.status, 200, JSON.stringify(made.body));
  const sessionId = (made.body as SessionView).id;

  await acceptWhenInvited(bob, sessionId);
  await acceptWhenInvited(carol, sessionId);
  // every server sees all three joined, under the same session id
  for (const [who, client] of [
    ['A', alice],
    ['B', bob],
    ['C', carol],
  ] as const) {
    const joined = await eventually(
      async () => {
        const r = await client.call('GET', `/api/v1/sessions/${sessionId}`);
        const n = (r.body as SessionView).members.filter((m) => m.state === 'joined').length;
        if (n !== 3) throw new Error(`${who}: ${n} joined`);
        return n;
      },
      { timeoutMs: 15_000 },
    );
    t.equal(joined, 3, `${who} sees three joined members`);
  }
  const remoteNames = (await alice.call('GET', `/api/v1/sessions/${sessionId}`)).body as SessionView;
  t.same(
    remoteNames.members.map((m) => m.displayName).sort(),
    ['Alice', 'bob (b.example)', 'carol (c.example)'].sort(),
    'remote members show with their community',
  );

  // messages from each reach the other two, in order
  for (const [client, prefix] of [
    [alice, 'A'],
    [bob, 'B'],
    [carol, 'C'],
  ] as const)
    for (let i = 1; i <= 3; i++) {
      const r = await client.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: `${prefix}${i}` });
      t.equal(r.status, 201, JSON.stringify(r.body));
    }
  const expectOrder = (all: (string | null)[], prefix: string) => all.filter((x) => x?.startsWith(prefix));
  for (const [who, client, others] of [
    ['alice', alice, ['B', 'C']],
    ['bob', bob, ['A', 'C']],
    ['carol', carol, ['A', 'B']],
  ] as const) {
    const got = await eventually(
      async () => {
        const got = texts(await messagesAt(client, sessionId));
        if (got.length < 9) throw new Error(`${who} has ${got.length}`);
        return got;
      },
      { timeoutMs: 15_000 },
    );
    t.equal(got.length, 9, `${who} has nine messages, each once`);
    for (const p of others) t.same(expectOrder(got, p), [`${p}1`, `${p}2`, `${p}3`], `${who} has ${p}'s in order`);
  }

  // a declined request is reported to A
  const second = await alice.call('POST', '/api/v1/federation/invite', { to: 'dave@b.example' });
  const id2 = (second.body as SessionView).id;
  const dave = await ApiClient.login(b.url, 'dave');
  await eventually(async () => {
    const r = await dave.call('GET', '/api/v1/sessions');
    if (!(r.body as { sessions: SessionView[] }).sessions.some((s) => s.id === id2)) throw new Error('not yet');
  });
  t.equal((await dave.call('POST', `/api/v1/sessions/${id2}/decline`)).status, 200);
  const daveState = await eventually(
    async () => {
      const r = await alice.call('GET', `/api/v1/sessions/${id2}`);
      const m = (r.body as SessionView).members.find((x) => x.displayName === 'dave (b.example)');
      if (m?.state !== 'declined') throw new Error(`dave: ${m?.state}`);
      return m.state;
    },
    { timeoutMs: 15_000 },
  );
  t.equal(daveState, 'declined', 'A sees that Dave declined');
  // an invitation for someone B does not know is declined by B
  const third = await alice.call('POST', '/api/v1/federation/invite', { to: 'nobody@b.example' });
  const id3 = (third.body as SessionView).id;
  const nobody = await eventually(
    async () => {
      const r = await alice.call('GET', `/api/v1/sessions/${id3}`);
      const m = (r.body as SessionView).members.find((x) => x.displayName?.includes('nobody'));
      if (m?.state !== 'declined') throw new Error(`nobody: ${m?.state}`);
      return m.state;
    },
    { timeoutMs: 15_000 },
  );
  t.equal(nobody, 'declined', 'an invitation for a user B does not know is declined by B');
  for (const x of [a, b, c])
    t.equal(
      await eventually(() => {
        const n = counts(x.dir).federation_outbox;
        if (n > 0) throw new Error(`${n} queued`);
        return n;
      }),
      0,
      `${x.name}'s queues are empty`,
    );
});
