import t, { type Test } from 'tap';
import { buildServices, type Services } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { PresenceEventRecorder } from '../../src/presence/event-recorder.js';
import type { CommitBatch } from '../../src/presence/ports.js';
import type { LinkEvent } from '../../src/presence/types.js';
import { openStore } from '../../src/store/index.js';
import { eventually, testConfig } from '../support/env.js';
import { storedMessages } from '../support/store.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

async function setup(t: Test, overrides: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const dir = t.testdir({});
  const config = testConfig(dir, { ...(await testStoreOverrides(dir)), ...overrides });
  const store = await openTestStore(config);
  const svc = buildServices({ config, log: silentLogger(), clock, ...(store ? { store } : {}) });
  t.teardown(async () => {
    await svc.presence.stop();
    await svc.store.close();
  });
  const ids: Record<string, number> = {};
  for (const n of ['alice', 'bob', 'carol'])
    ids[n] = (await svc.accounts.createUser({ username: n, displayName: n })).id;
  return { svc, clock, alice: ids.alice as number, bob: ids.bob as number, carol: ids.carol as number };
}

async function friends(svc: Services, a: number, b: number): Promise<void> {
  await svc.presence.requestContact(a, b);
  await svc.presence.approveContact(b, a);
}

function sink(): { events: LinkEvent[]; deliver: (e: LinkEvent) => void } {
  const events: LinkEvent[] = [];
  return { events, deliver: (e) => events.push(e) };
}

t.test('presence is derived from links: the most available wins, a phone shows "on the phone"', async (t) => {
  const { svc, alice, bob } = await setup(t);
  const p = svc.presence;
  await friends(svc, alice, bob);
  const watcher = sink();
  await p.openLink(bob, { kind: 'websocket', deliver: watcher.deliver });
  const seen = () =>
    watcher.events
      .filter((e) => e.type === 'presence' && e.presence.userId === alice)
      .map((e) => (e as { presence: { state: string } }).presence.state);

  t.equal((await p.presenceOf(alice)).state, 'offline', 'no link: offline');
  const phone = await p.openLink(alice, { kind: 'phone', deliver: () => {} });
  t.equal((await p.presenceOf(alice)).state, 'on-the-phone');
  const web = await p.openLink(alice, { kind: 'web', deliver: () => {} });
  t.equal((await p.presenceOf(alice)).state, 'online', 'web beats phone');
  await p.setPresence(alice, 'away', 'lunch');
  t.same(
    await p.presenceOf(alice),
    { userId: alice, state: 'on-the-phone', statusText: 'lunch' },
    'the phone beats away',
  );
  await phone.close();
  t.same(await p.presenceOf(alice), { userId: alice, state: 'away', statusText: 'lunch' });
  await p.setPresence(alice, 'offline');
  t.equal((await p.presenceOf(alice)).state, 'offline', 'invisible');
  await p.setPresence(alice, 'busy', '');
  await web.close();
  await web.close();
  t.same(
    seen(),
    ['on-the-phone', 'online', 'on-the-phone', 'away', 'offline', 'busy', 'offline'],
    'Bob saw every change',
  );
  await t.rejects(p.setPresence(alice, 'asleep' as never), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.setPresence(alice, 'online', 'x'.repeat(141)), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.openLink(alice, { kind: 'pigeon' as never, deliver: () => {} }), {
    code: 'PRESENCE_INVALID_INPUT',
  });
  await t.rejects(p.openLink(999, { kind: 'web', deliver: () => {} }), { code: 'PRESENCE_USER_NOT_FOUND' });
});

t.test('contacts: a request waits for approval; approval is mutual; presence stays hidden until then', async (t) => {
  const { svc, alice, bob, carol } = await setup(t);
  const p = svc.presence;
  const bobSees = sink();
  await p.openLink(bob, { kind: 'websocket', deliver: bobSees.deliver });
  await p.openLink(alice, { kind: 'web', deliver: () => {} });

  t.equal(await p.requestContact(alice, bob), 'requested');
  t.same(
    bobSees.events.filter((e) => e.type === 'contact-request'),
    [{ type: 'contact-request', fromUserId: alice }],
  );
  t.match(await p.contacts(alice), [{ username: 'bob', subscription: 'requested', presence: { state: 'offline' } }]);
  t.match(await p.contactRequests(bob), [{ username: 'alice', fromUserId: alice }]);
  t.same(await p.contacts(bob), [], 'nothing on Bob’s list until he approves');
  await p.approveContact(bob, alice);
  t.match(await p.contacts(alice), [{ username: 'bob', subscription: 'approved', presence: { state: 'online' } }]);
  t.match(await p.contacts(bob), [{ username: 'alice', subscription: 'approved', presence: { state: 'online' } }]);
  t.equal(await p.requestContact(alice, bob), 'approved', 'asking again changes nothing');
  await t.rejects(p.approveContact(bob, alice), { code: 'PRESENCE_REQUEST_NOT_FOUND' });

  // Two requests that cross approve each other.
  await p.requestContact(carol, alice);
  t.equal(await p.requestContact(alice, carol), 'approved');
  t.ok(await p.isContact(carol, alice));

  // Decline and remove.
  await p.requestContact(bob, carol);
  await p.declineContact(carol, bob);
  t.same(await p.contactRequests(carol), []);
  await t.rejects(p.declineContact(carol, bob), { code: 'PRESENCE_REQUEST_NOT_FOUND' });
  await p.removeContact(alice, bob);
  t.notOk(await p.isContact(bob, alice));
  await t.rejects(p.requestContact(alice, alice), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.requestContact(alice, 4242), { code: 'PRESENCE_USER_NOT_FOUND' });
});

t.test('the session controller: invitations, answers, membership rules', async (t) => {
  const { svc, alice, bob, carol } = await setup(t);
  const p = svc.presence;
  const rec = new PresenceEventRecorder(p);
  await friends(svc, alice, bob);
  await t.rejects(p.createSession(alice, [carol]), { code: 'PRESENCE_NOT_CONTACT' });
  await t.rejects(p.createSession(alice, []), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.createSession(alice, [alice]), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.createSession(alice, [777]), { code: 'PRESENCE_USER_NOT_FOUND' });
  const s = await p.createSession(alice, [bob, bob]);
  t.same(s.members, [
    { userId: alice, state: 'joined' },
    { userId: bob, state: 'invited' },
  ]);
  t.match(
    rec.invited,
    [{ inviterId: alice, inviteeId: bob, isReachable: false }],
    'Bob had no link: the notifier may call',
  );
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: bob, text: 'hey' }), {
    code: 'PRESENCE_NOT_MEMBER',
    message: /accept/,
  });
  await t.rejects(p.session(s.id, carol), { code: 'PRESENCE_SESSION_NOT_FOUND' });
  await t.rejects(p.accept('nope', bob), { code: 'PRESENCE_SESSION_NOT_FOUND' });
  await p.accept(s.id, bob);
  t.same((await p.accept(s.id, bob)).members[1], { userId: bob, state: 'joined' }, 'accepting twice is harmless');
  await t.rejects(p.decline(s.id, bob), { code: 'PRESENCE_NOT_INVITED' });
  t.same(
    (await p.sessionsOf(bob)).map((x) => x.id),
    [s.id],
  );

  // Bob brings Carol in (his contact); Carol declines; Alice cannot invite Carol (not her contact).
  await friends(svc, bob, carol);
  await t.rejects(p.invite(s.id, alice, carol), { code: 'PRESENCE_NOT_CONTACT' });
  const carolSees = sink();
  await p.openLink(carol, { kind: 'web', deliver: carolSees.deliver });
  await p.invite(s.id, bob, carol);
  t.match(
    carolSees.events.filter((e) => e.type === 'invite'),
    [{ type: 'invite', inviterId: bob, session: { id: s.id } }],
  );
  t.equal((await p.invite(s.id, bob, carol)).members.length, 3, 'inviting again changes nothing');
  await p.decline(s.id, carol);
  t.equal((await p.decline(s.id, carol)).members[2]?.state, 'declined');
  t.same(await p.sessionsOf(carol), []);
  await p.leave(s.id, bob);
  t.equal((await p.leave(s.id, bob)).members[1]?.state, 'left');
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: bob, text: 'back?' }), {
    code: 'PRESENCE_NOT_MEMBER',
    message: /no longer/,
  });
  await t.rejects(p.invite(s.id, bob, carol), { code: 'PRESENCE_NOT_MEMBER' });
  t.same(
    (await p.members(s.id)).map((m) => m.state),
    ['joined', 'left', 'declined'],
  );
  await t.rejects(p.members('nope'), { code: 'PRESENCE_SESSION_NOT_FOUND' });
});

t.test('messages: stored before the answer, routed to links, unreachable reported, read and notified', async (t) => {
  const { svc, alice, bob, carol } = await setup(t);
  const p = svc.presence;
  const rec = new PresenceEventRecorder(p);
  await friends(svc, alice, bob);
  await friends(svc, alice, carol);
  const s = await p.createSession(alice, [bob, carol]);
  await p.accept(s.id, bob);
  const bobPhone = sink();
  await p.openLink(bob, { kind: 'phone', deliver: bobPhone.deliver });
  const aliceOther = sink();
  await p.openLink(alice, { kind: 'websocket', deliver: aliceOther.deliver });

  const m = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: '  <script>alert(1)</script> & $(x)  ' });
  t.equal(m.text, '<script>alert(1)</script> & $(x)', 'stored as typed (trimmed); pages escape it');
  // Durable: another connection sees it the moment the promise resolves.
  const other = await openStore(svc.config, { migrate: false });
  t.teardown(() => other.close());
  t.equal((await other.presence.message(Number(m.id)))?.text, m.text);
  t.same(
    bobPhone.events.filter((e) => e.type === 'message'),
    [{ type: 'message', message: m }],
    'the phone link got it (the IVR reads it live)',
  );
  t.same(
    aliceOther.events.filter((e) => e.type === 'message'),
    [{ type: 'message', message: m }],
    'the sender’s other link got a copy',
  );
  t.same(rec.unreachable, [{ recipientId: carol, message: m }], 'Carol (invited, no link) is unreachable');
  t.same(rec.stored[0]?.recipients, [
    { userId: bob, hasLink: true, hasPhoneLink: true },
    { userId: carol, hasLink: false, hasPhoneLink: false },
  ]);
  t.same(await p.deliveryStates(m.id), [
    { recipientId: bob, state: 'delivered' },
    { recipientId: carol, state: 'pending' },
  ]);

  // The notifier reached Carol; then she reads it.
  t.same(await p.markNotified(carol, [m.id]), [m.id]);
  t.equal((await p.deliveryStates(m.id))[1]?.state, 'notified');
  t.same(
    (await p.unread(carol)).map((x) => x.id),
    [m.id],
  );
  t.same(await p.unread(carol, 'other-session'), []);
  t.same(await p.markRead(carol, [m.id, '999']), [m.id], 'unknown ids are ignored');
  t.same(await p.markRead(carol, [m.id]), [], 'reading twice changes nothing');
  t.same(rec.read, [{ userId: carol, messageIds: [m.id] }]);
  t.same(await p.unread(carol), []);
  await t.rejects(p.markRead(carol, ['abc']), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.markRead(carol, 'x' as never), { code: 'PRESENCE_INVALID_INPUT' });

  // A voice message from Bob's phone.
  const v = await p.postMessage({
    sessionId: s.id,
    fromUserId: bob,
    voice: { audioId: 'a1b2', url: 'http://127.0.0.1:9/audio/a1b2.mp3', text: 'call me back' },
  });
  t.match(v, { kind: 'voice', audioId: 'a1b2', text: 'call me back', audioUrl: 'http://127.0.0.1:9/audio/a1b2.mp3' });
  await t.rejects(
    p.postMessage({ sessionId: s.id, fromUserId: bob, voice: { audioId: 'x', url: 'javascript:alert(1)' } }),
    { code: 'PRESENCE_INVALID_INPUT' },
  );
  const silent = await p.postMessage({
    sessionId: s.id,
    fromUserId: bob,
    voice: { audioId: 'x', url: 'https://a.example/x' },
  });
  t.equal(silent.text, null);
  t.same(
    (await p.history(alice, s.id)).map((x) => x.id),
    [m.id, v.id, silent.id],
  );
  t.same(
    (await p.history(alice, s.id, { afterId: m.id, limit: 1 })).map((x) => x.id),
    [v.id],
  );
  t.same(await p.message(v.id), v);
  t.equal(await p.message('12345'), null);
});

t.test('bad messages are refused before anything is written', async (t) => {
  const { svc, alice, bob } = await setup(t, { presence: { maxMessageBytes: 64 } });
  const p = svc.presence;
  await friends(svc, alice, bob);
  const s = await p.createSession(alice, [bob]);
  const count = async () => (await storedMessages(svc.store)).length;
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'é'.repeat(33) }), {
    code: 'PRESENCE_MESSAGE_TOO_LARGE',
    message: /64 bytes/,
  });
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: alice, text: '' }), { code: 'PRESENCE_INVALID_INPUT' });
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'bell\u0007' }), {
    code: 'PRESENCE_INVALID_INPUT',
  });
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: alice, text: 42 as never }), {
    code: 'PRESENCE_INVALID_INPUT',
  });
  await t.rejects(p.postMessage({ sessionId: 'no-such', fromUserId: alice, text: 'hi' }), {
    code: 'PRESENCE_SESSION_NOT_FOUND',
  });
  await t.rejects(p.postMessage({ sessionId: 7 as never, fromUserId: alice, text: 'hi' }), {
    code: 'PRESENCE_SESSION_NOT_FOUND',
  });
  await t.rejects(p.postMessage(null as never), { code: 'PRESENCE_INVALID_INPUT' });
  t.equal(await count(), 0, 'nothing was written');
  const ok = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'two\nlines' });
  t.equal(ok.text, 'two\nlines');
  t.equal(await count(), 1);
});

t.test('group commit: many messages share a transaction; one that fails alone does not sink the others', async (t) => {
  const { svc, alice, bob, carol } = await setup(t);
  const p = svc.presence;
  await friends(svc, alice, bob);
  await friends(svc, carol, alice);
  const s1 = await p.createSession(alice, [bob]);
  // Carol's session, which Alice joined: it goes with Carol's account.
  const s2 = await p.createSession(carol, [alice]);
  await p.accept(s2.id, alice);
  const cache = (p as unknown as { cache: { stats: { batches: number; messages: number }; queued: number } }).cache;
  const posts = Array.from({ length: 300 }, (_, i) =>
    p.postMessage({ sessionId: s1.id, fromUserId: alice, text: `m${i}` }),
  );
  const stored = await Promise.all(posts);
  t.same(
    stored.map((m) => m.text),
    Array.from({ length: 300 }, (_, i) => `m${i}`),
  );
  t.ok(
    stored.every((m, i) => i === 0 || Number(m.id) > Number(stored[i - 1]?.id)),
    'ids follow the order of posting',
  );
  t.same(
    (await p.history(alice, s1.id, { limit: 1000 })).map((m) => m.text).sort(),
    stored.map((m) => m.text).sort(),
    'each stored once',
  );
  t.ok(cache.stats.batches <= 3, `300 messages in ${cache.stats.batches} commit(s)`);

  // s2 disappears between the check and the commit: its message fails, the batch's others are stored.
  // A commit held open makes the next two messages wait for it together, as they do under load.
  const committer = svc.store.messages;
  const commit = committer.commit.bind(committer);
  const batches: (string | null)[][] = [];
  let release = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  committer.commit = async (batch: CommitBatch) => {
    if (batch.entries.length > 0) batches.push(batch.entries.map((e) => e.text));
    if (batch.entries.some((e) => e.text === 'hold')) await held;
    return commit(batch);
  };
  const hold = p.postMessage({ sessionId: s1.id, fromUserId: alice, text: 'hold' });
  await eventually(() => {
    if (batches.length !== 1) throw new Error('the held commit has not started');
  });
  const good = p.postMessage({ sessionId: s1.id, fromUserId: alice, text: 'survivor' });
  const doomed = t.rejects(p.postMessage({ sessionId: s2.id, fromUserId: alice, text: 'doomed' }), {
    code: 'PRESENCE_SESSION_NOT_FOUND',
  });
  await eventually(() => {
    if (cache.queued !== 2) throw new Error(`${cache.queued} queued`);
  });
  await svc.accounts.removeUser(carol);
  release();
  await hold;
  t.equal((await good).text, 'survivor');
  await doomed;
  t.same(
    batches.map((b) => [...b].sort()),
    [['hold'], ['doomed', 'survivor']],
    'the two were one commit',
  );
  // What the store holds from the held message on (ids rise: the failed tries took ids below the next message's).
  const after = await p.postMessage({ sessionId: s1.id, fromUserId: alice, text: 'after' });
  const written: (string | null)[] = [];
  const orphans: number[] = [];
  for (let id = Math.max(...stored.map((m) => Number(m.id))) + 1; id <= Number(after.id); id++) {
    const m = await svc.store.presence.message(id);
    if (m) written.push(m.text);
    else if ((await svc.store.presence.deliveryStates(id)).length > 0) orphans.push(id);
  }
  t.same(written, ['hold', 'survivor', 'after'], 'the doomed message was not stored');
  t.same(orphans, [], 'no delivery rows without their message');

  await p.stop();
  await t.rejects(p.postMessage({ sessionId: s1.id, fromUserId: alice, text: 'late' }), { code: 'PRESENCE_CLOSED' });
  await t.rejects(p.openLink(alice, { kind: 'web', deliver: () => {} }), { code: 'PRESENCE_CLOSED' });
});

t.test('a link opening gets what waits for it, once; a listener that throws is contained', async (t) => {
  const { svc, alice, bob } = await setup(t);
  const p = svc.presence;
  await friends(svc, alice, bob);
  const s = await p.createSession(alice, [bob]);
  await p.accept(s.id, bob);
  p.onUnreachable(() => {
    throw new Error('notifier bug');
  });
  const rec = new PresenceEventRecorder(p);
  const a = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'one' });
  const b = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'two' });
  t.equal(rec.unreachable.length, 2, 'later listeners still ran');
  const ivr = sink();
  const quiet = await p.openLink(bob, { kind: 'phone', deliver: ivr.deliver, replay: false });
  t.same(
    ivr.events.filter((e) => e.type === 'message'),
    [],
    'the IVR reads waiting messages itself',
  );
  await quiet.close();
  const first = sink();
  const link = await p.openLink(bob, { kind: 'websocket', deliver: first.deliver });
  t.same(
    first.events.map((e) => (e.type === 'message' ? e.message.id : e.type)),
    ['presence', a.id, b.id],
  );
  await new Promise((r) => setImmediate(r));
  await link.close();
  const again = sink();
  await p.openLink(bob, { kind: 'websocket', deliver: again.deliver });
  t.same(
    again.events.filter((e) => e.type === 'message'),
    [],
    'already delivered',
  );
  // A link whose deliver throws leaves the message pending.
  const broken = await p.openLink(bob, {
    kind: 'xmpp',
    deliver: (e) => {
      if (e.type === 'message') throw new Error('gone');
    },
  });
  const c = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'three' });
  t.equal(p.linksOf(bob).length, 2);
  t.equal((await p.deliveryStates(c.id))[0]?.state, 'delivered', 'the other link took it');
  await broken.close();
});

t.test('membership kept in memory: no read per post, and a change on another node is never missed', async (t) => {
  const dir = t.testdir({});
  const clock = new ManualClock();
  const node = (nodeId: string) => {
    const svc = buildServices({ config: testConfig(dir, { presence: { nodeId } }), log: silentLogger(), clock });
    t.teardown(async () => {
      await svc.presence.stop();
      await svc.store.close();
    });
    return svc;
  };
  const a = node('node-a');
  const b = node('node-b');
  const ids: Record<string, number> = {};
  for (const n of ['alice', 'bob', 'carol', 'dave'])
    ids[n] = (await a.accounts.createUser({ username: n, displayName: n })).id;
  const { alice, bob, carol, dave } = ids as Record<'alice' | 'bob' | 'carol' | 'dave', number>;
  for (const [x, y] of [
    [alice, bob],
    [alice, carol],
    [bob, dave],
  ] as const)
    await friends(a, x, y);
  const p = a.presence;
  const s = await p.createSession(alice, [bob, carol]);
  await p.accept(s.id, bob);
  await p.accept(s.id, carol);

  // Node a reads the session's membership once for many posts.
  const repo = (p as unknown as { repo: { membership: (id: string) => Promise<unknown> } }).repo;
  const membership = repo.membership;
  let reads = 0;
  repo.membership = (id) => {
    reads++;
    return membership(id);
  };
  for (let i = 0; i < 5; i++) await p.postMessage({ sessionId: s.id, fromUserId: i % 2 ? bob : alice, text: `m${i}` });
  t.equal(reads, 1, 'five posts, one read');

  // On node b, Bob leaves; node a was not told, but Bob's next post on node a is refused.
  await b.presence.leave(s.id, bob);
  await t.rejects(p.postMessage({ sessionId: s.id, fromUserId: bob, text: 'still here?' }), {
    code: 'PRESENCE_NOT_MEMBER',
    message: /no longer/,
  });
  const after = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'after Bob left' });
  t.same(
    (await p.deliveryStates(after.id)).map((d) => d.recipientId),
    [carol],
    'a message stored after his leaving is not for Bob',
  );
  t.notOk(
    (await b.presence.history(bob, s.id)).some((m) => m.text === 'after Bob left' || m.text === 'still here?'),
    'Bob reads nothing after he left',
  );

  // On node b, Alice invites Bob back, he accepts and brings Dave (his contact): node a was not told either.
  await b.presence.invite(s.id, alice, bob);
  await b.presence.accept(s.id, bob);
  await b.presence.invite(s.id, bob, dave);
  const readsBefore = reads;
  const toDave = await p.postMessage({ sessionId: s.id, fromUserId: alice, text: 'welcome Dave' });
  t.same(
    (await p.deliveryStates(toDave.id)).map((d) => d.recipientId).sort((x, y) => x - y),
    [bob, carol, dave].sort((x, y) => x - y),
    'a member added on another node gets the next message',
  );
  t.ok(reads > readsBefore, 'read again once the commit found the copy stale');
  t.equal(
    (await p.history(alice, s.id)).filter((m) => m.text === 'welcome Dave').length,
    1,
    'stored once, though checked twice',
  );
});
