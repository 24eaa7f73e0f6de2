/**
 * The per-peer queue's rules on a real SQLite file, against a peer that
 * answers as told: order and batches, back-off on silence, 5xx and 401, a
 * refusal for good drops only the refused event, a suspended or removed peer
 * is not sent to, and what is queued survives a restart of the queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../src/core/clock.js';
import { AppError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Outbox, type PeerClient } from '../../src/federation/outbox.js';
import type { Peer } from '../../src/federation/ports.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { eventually } from '../support/env.js';

const KEY = 'MCowBQYDK2VwAyEAJ29jidRzvHzIsHytOewVZiUs8QfMk/jrVaUO5fr4N+8=';

t.test('the outbox', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  const db = openSqliteStore({ path: join(dir, 'phoneim.sqlite'), nodeId: 'node-a', inlineMessageWriter: true });
  t.teardown(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = db.federation;
  const clock = new ManualClock();
  await store.putPeer({ name: 'b.example', baseUrl: 'http://127.0.0.1:9', publicKey: KEY }, clock.now());
  const received: string[][] = [];
  let answer: (ids: string[]) => void = () => undefined;
  const client: PeerClient = {
    async post(_peer: Peer, _path: string, body: unknown) {
      const ids = (body as { events: { id: string }[] }).events.map((e) => e.id);
      answer(ids);
      received.push(ids);
      return { applied: ids.length };
    },
  };
  const config = { batchSize: 3, retryInitialMs: 1000, retryMaxMs: 4000, maxBodyBytes: 1 << 20 };
  let outbox = new Outbox({ store, client, clock, log: silentLogger(), config });
  await outbox.start();
  const ev = (n: number) => ({ id: `e${n}`, pad: 'x' });

  // in order, in batches
  await outbox.enqueue('b.example', [ev(1), ev(2), ev(3), ev(4)], clock.now());
  await eventually(async () => {
    if ((await store.queueLength('b.example')) > 0) throw new Error('still queued');
  });
  t.same(received.flat(), ['e1', 'e2', 'e3', 'e4'], 'all sent, in order');
  t.ok(
    received.every((b) => b.length <= 3),
    'in batches of at most batchSize',
  );

  // silence: retried after the back-off, which doubles
  received.length = 0;
  let fail: AppError | null = new AppError('FEDERATION_PEER_UNREACHABLE', 'b.example did not answer');
  answer = () => {
    if (fail) throw fail;
  };
  await outbox.enqueue('b.example', [ev(5)], clock.now());
  await eventually(async () => {
    if (!(await store.peer('b.example'))?.lastError) throw new Error('not tried');
  });
  t.equal(await store.queueLength('b.example'), 1, 'kept while the peer is silent');
  clock.advance(1000);
  await eventually(async () => {
    const [h] = await store.head('b.example', 1);
    if ((h?.attempts ?? 0) < 2) throw new Error('not retried');
  });
  fail = new AppError('FEDERATION_PEER_REFUSED', 'b.example refused', {
    status: 401,
    peerCode: 'FEDERATION_UNKNOWN_PEER',
  });
  clock.advance(2000);
  await eventually(async () => {
    const [h] = await store.head('b.example', 1);
    if ((h?.attempts ?? 0) < 3) throw new Error('not retried');
  });
  t.equal(await store.queueLength('b.example'), 1, 'a 401 is retried, not dropped (the peer may add our key)');
  fail = null;
  clock.advance(4000);
  await eventually(async () => {
    if ((await store.queueLength('b.example')) > 0) throw new Error('still queued');
  });
  t.same((await store.peer('b.example'))?.lastError, null, 'success clears the last error');

  // a refusal for good drops the refused event only; those after it go on
  received.length = 0;
  answer = (ids) => {
    if (ids.includes('e7')) {
      throw new AppError('FEDERATION_PEER_REFUSED', 'b.example refused', {
        status: 403,
        peerCode: 'FEDERATION_FORBIDDEN',
        eventId: 'e7',
      });
    }
  };
  await outbox.enqueue('b.example', [ev(6), ev(7), ev(8)], clock.now());
  await eventually(async () => {
    if ((await store.queueLength('b.example')) > 0) throw new Error('still queued');
  });
  t.same(received, [['e8']], 'e6 and e7 (applied, then refused) dropped; e8 sent');

  // a queued event id is queued once
  answer = () => {
    throw new AppError('FEDERATION_PEER_UNREACHABLE', 'down');
  };
  await outbox.enqueue('b.example', [ev(9), ev(9)], clock.now());
  t.equal(await store.queueLength('b.example'), 1);

  // the queue survives a restart of the outbox, and goes out when the peer is back
  await outbox.stop();
  received.length = 0;
  answer = () => undefined;
  outbox = new Outbox({ store, client, clock, log: silentLogger(), config });
  await outbox.start();
  await eventually(async () => {
    if ((await store.queueLength('b.example')) > 0) throw new Error('still queued');
  });
  t.same(received.flat(), ['e9']);
  t.same(await store.peersWithQueue(), []);

  // a removed peer: nothing is sent, and its queue went with it
  t.ok(await store.removePeer('b.example'));
  received.length = 0;
  await store.enqueue('b.example', [], clock.now());
  outbox.kick('b.example');
  t.same(received, []);
  t.notOk(await store.removePeer('b.example'));
  await outbox.stop();
});
