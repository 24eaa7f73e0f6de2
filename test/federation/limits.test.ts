/**
 * Limits and delivery, with two communities in this process: a peer over its
 * request rate gets 429; a session over its member limit is refused; a peer
 * that cannot be reached keeps its events queued (with the reason), and they
 * go out once it can; invitations into a session that exists reach everyone.
 */
import t from 'tap';
import { eventually } from '../support/env.js';
import { inProcessCommunity } from '../support/federation.js';
import { ApiClient, makeUsers } from '../support/presence.js';

t.test('limits, retries and later invitations', async (t) => {
  const a = await inProcessCommunity(t, 'a.example', { maxMembersPerSession: 3, retryInitialMs: 50, retryMaxMs: 200 });
  const b = await inProcessCommunity(t, 'b.example', { requestsPerPeerPerMinute: 3 });
  const pa = a.platform!.services;
  const pb = b.platform!.services;
  // A knows B at a dead address first: what it sends waits in B's queue
  const dead = 'http://127.0.0.1:9';
  t.equal((await a.ctl(['peer', 'add', 'b.example', dead, b.publicKey])).code, 0);
  t.equal((await b.ctl(['peer', 'add', 'a.example', a.url, a.publicKey])).code, 0);
  const { alice } = await makeUsers(a.platform!, ['alice']);
  const { bob, dave } = await makeUsers(b.platform!, ['bob', 'dave']);
  const session = await pa.federation.invite(alice, ['bob@b.example']);
  const waiting = await eventually(async () => {
    const p = await pa.federation.peer('b.example');
    if (!p.lastError) throw new Error('not tried yet');
    return p;
  });
  t.equal(waiting.queued, 1, 'the invitation waits in the queue');
  t.match(waiting.lastError, /did not answer/);
  const ping = await a.ctl(['peer', 'ping', 'b.example']);
  t.not(ping.code, 0);
  t.match(ping.stderr, /FEDERATION_PEER_UNREACHABLE/, "the peer's failure is our own coded error");

  // the operator fixes the address: the queue goes out
  t.equal((await a.ctl(['peer', 'add', 'b.example', b.url, b.publicKey])).code, 0);
  await eventually(async () => {
    if ((await pb.presence.sessionsOf(bob)).length === 0) throw new Error('not invited yet');
  });
  const left = await eventually(async () => {
    const n = (await pa.federation.peer('b.example')).queued;
    if (n > 0) throw new Error(`${n} queued`);
    return n;
  });
  t.equal(left, 0, 'the queue caught up');
  await pb.presence.accept(session.id, bob);
  await eventually(async () => {
    if ((await pa.presence.members(session.id)).some((m) => m.state !== 'joined')) throw new Error('not joined yet');
  });

  // a later invitation into the same session
  await pa.federation.invite(alice, ['dave@b.example'], session.id);
  await eventually(async () => {
    if (!(await pb.presence.sessionsOf(dave)).some((s) => s.id === session.id)) throw new Error('dave not invited yet');
  });
  t.equal((await pb.presence.members(session.id)).length, 3, 'B has the session with its three members');

  // members per session
  const full = await ApiClient.login(a.url, 'alice').then((c) =>
    c.call('POST', '/api/v1/federation/invite', { sessionId: session.id, to: ['erin@b.example'] }),
  );
  t.equal(full.status, 409);
  t.match(full.body, { error: { code: 'FEDERATION_SESSION_FULL' } });

  // rate per peer: B lets A make 3 signed requests a minute; the queue's requests count too
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await a.ctl(['peer', 'ping', 'b.example']));
  const limited = results.find((r) => r.code !== 0);
  t.ok(limited, 'a request over the rate is refused');
  t.match(limited?.stderr, /429 FEDERATION_RATE_LIMITED/);
  t.equal(
    (await pa.federation.peer('b.example')).queued,
    0,
    'nothing was lost meanwhile (the member event of dave was delivered before)',
  );
});
