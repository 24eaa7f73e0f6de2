/**
 * A link shows a message once, however many ways it reaches the link's node
 * (issue #12). Two nodes on one store (SQLite file, or PostgreSQL with
 * PHONEIM_TEST_STORE=postgres). Node 1's real feed is wrapped so that the
 * test decides when what it read is handed on (the feed's read finishing
 * late, as under load), or hands every event on twice (a feed that repeats).
 */
import t, { type Test } from 'tap';
import { buildServices, type Services } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { NodeFeed, NodeFeedEvent, NodeFeedSubscription } from '../../src/presence/ports.js';
import { RECENT_PER_LINK } from '../../src/presence/presence-service.js';
import type { LinkEvent } from '../../src/presence/types.js';
import { openStore, type Store } from '../../src/store/index.js';
import { eventually, testConfig } from '../support/env.js';
import { testStoreOverrides } from '../support/store-backend.js';

/** The store's own feed; what it reads is held while `isHolding`, and handed on `times` times. */
class HeldFeed implements NodeFeed {
  isHolding = false;
  times = 1;
  readonly held: NodeFeedEvent[] = [];
  private handler: ((e: NodeFeedEvent) => void) | undefined;
  constructor(private readonly inner: NodeFeed) {}
  publish(event: NodeFeedEvent): Promise<void> {
    return this.inner.publish(event);
  }
  subscribe(handler: (e: NodeFeedEvent) => void, options?: NodeFeedSubscription): Promise<void> {
    this.handler = handler;
    return this.inner.subscribe((e) => (this.isHolding ? this.held.push(e) : this.hand(e)), options);
  }
  release(): void {
    this.isHolding = false;
    for (const e of this.held.splice(0)) this.hand(e);
  }
  private hand(e: NodeFeedEvent): void {
    for (let i = 0; i < this.times; i++) this.handler?.(e);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function node(t: Test, dir: string, nodeId: string, isHeld = false) {
  const config = testConfig(dir, { ...(await testStoreOverrides(dir)), presence: { nodeId } });
  const store = await openStore(config, { feedIntervalMs: 20 });
  const feed = isHeld ? new HeldFeed(store.feed) : undefined;
  const svc = buildServices({
    config,
    log: silentLogger(),
    clock: new ManualClock(),
    store: feed ? (Object.create(store, { feed: { value: feed } }) as Store) : store,
  });
  t.teardown(async () => {
    await svc.presence.stop();
    await store.close();
  });
  await svc.presence.start();
  return { svc, feed };
}

async function twoNodes(t: Test) {
  const dir = t.testdir({});
  const n1 = await node(t, dir, 'node-1', true);
  const n2 = await node(t, dir, 'node-2');
  const ids: number[] = [];
  for (const n of ['alice', 'bob', 'carol'])
    ids.push((await n2.svc.accounts.createUser({ username: n, displayName: n })).id);
  const [alice, bob, carol] = ids as [number, number, number];
  const p2 = n2.svc.presence;
  await p2.requestContact(alice, bob);
  await p2.approveContact(bob, alice);
  return { p1: n1.svc.presence, p2, feed: n1.feed as HeldFeed, alice, bob, carol };
}

function sink(): { texts: () => (string | null)[]; ids: () => number[]; deliver: (e: LinkEvent) => void } {
  const events: LinkEvent[] = [];
  const messages = () => events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
  return {
    texts: () => messages().map((m) => m.text),
    ids: () => messages().map((m) => Number(m.id)),
    deliver: (e) => events.push(e),
  };
}

const rising = (ids: number[]): boolean => ids.every((id, i) => i === 0 || id > (ids[i - 1] as number));

// One pair of nodes for the file (each node's SQLite writer thread takes seconds to start on a busy machine).
const { p1, p2, feed, alice, bob, carol } = await twoNodes(t);

/** A new session of Alice's (node 2) that Bob has joined. */
async function conversation(): Promise<string> {
  const session = (await p2.createSession(alice, [bob])).id;
  await p2.accept(session, bob);
  return session;
}

const post = (p: Services['presence'], sessionId: string, fromUserId: number, text: string) =>
  p.postMessage({ sessionId, fromUserId, text });

t.test('a message committed on node 2 while Bob’s link opens on node 1 reaches it once', async (t) => {
  const session = await conversation();
  // Node 1 has a link (Carol's), so its feed reads what node 2 commits.
  const carolLink = await p1.openLink(carol, { kind: 'websocket', deliver: () => {} });
  feed.isHolding = true;
  const x = await post(p2, session, alice, 'across nodes');
  await eventually(() => {
    if (!feed.held.some((e) => e.type === 'message' && e.message.id === x.id)) throw new Error('not read yet');
  });
  // Bob's link opens on node 1: the message waits for him in the store, so the link is given it.
  const bobSees = sink();
  const bobLink = await p1.openLink(bob, { kind: 'websocket', deliver: bobSees.deliver });
  t.same(bobSees.texts(), ['across nodes'], 'given as waiting');
  // Then node 1's feed hands on what it read about the same message.
  feed.release();
  t.same(bobSees.texts(), ['across nodes'], 'not again from the feed');
  await post(p2, session, alice, 'and after');
  await eventually(() => {
    if (bobSees.texts().length < 2) throw new Error('nothing more yet');
  });
  t.same(bobSees.texts(), ['across nodes', 'and after'], 'the feed still brings what comes next');
  t.match(await p1.deliveryStates(x.id), [{ recipientId: bob, state: 'delivered' }]);
  await bobLink.close();
  await carolLink.close();
});

t.test('a feed that hands every event on twice: each link shows each message once', async (t) => {
  const session = await conversation();
  feed.times = 2;
  const bobSees = sink();
  const aliceElsewhere = sink();
  await p1.openLink(bob, { kind: 'websocket', deliver: bobSees.deliver });
  await p1.openLink(alice, { kind: 'websocket', deliver: aliceElsewhere.deliver });
  // More messages than a link remembers: the oldest ids are forgotten while new ones still count.
  const n = RECENT_PER_LINK + 26;
  const texts = Array.from({ length: n }, (_, i) => `m${i}`);
  await Promise.all(texts.map((text) => post(p2, session, alice, text)));
  await eventually(
    () => {
      if (bobSees.texts().length < n || aliceElsewhere.texts().length < n)
        throw new Error(`${bobSees.texts().length} and ${aliceElsewhere.texts().length} of ${n}`);
    },
    { timeoutMs: 20_000 },
  );
  // A last message: once it is shown, every event before it was handed on (twice).
  await post(p2, session, alice, 'last');
  await eventually(() => {
    if (!bobSees.texts().includes('last') || !aliceElsewhere.texts().includes('last')) throw new Error('not yet');
  });
  // Concurrent posts are committed in the order they reach the message cache (on PostgreSQL, not quite the
  // order of the calls); from one node, ids rise with the commits.
  const all = [...texts, 'last'].sort();
  t.same([...bobSees.texts()].sort(), all, 'Bob: each message once');
  t.ok(rising(bobSees.ids()), 'in the order they were committed');
  t.same([...aliceElsewhere.texts()].sort(), all, 'the sender’s link on node 1: her copy of each once');
  t.ok(rising(aliceElsewhere.ids()), 'hers in commit order too');
});
