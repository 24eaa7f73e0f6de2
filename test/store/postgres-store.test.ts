/**
 * What only the PostgreSQL store does: the feed's LISTEN connection comes
 * back after the server drops it and catches up; notifications stay small
 * whatever the messages hold; many nodes drain the notifier's ladders with
 * every step claimed once; a read-only database is reported not writable.
 */
import t, { type Test } from 'tap';
import type { User } from '../../src/accounts/types.js';
import type { NodeFeedEvent } from '../../src/presence/ports.js';
import { loadConfig } from '../../src/core/config.js';
import { openConfiguredPostgresStore, openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.js';
import { eventually } from '../support/env.js';
import { postgresForTests } from '../support/postgres.js';

const server = await postgresForTests(t);
const NOW = 1_764_400_000_000;

const user = (s: PostgresStore, name: string): Promise<User> =>
  s.accounts.insertUser({
    username: name,
    accountNumber: `${name.length}${Math.floor(Math.random() * 1e9)}`,
    displayName: name,
    spokenName: name,
    timeZone: 'UTC',
    createdAt: NOW,
    credentials: [],
    callerIds: [],
  });

if (server) {
  const nodes = async (t: Test, n: number, url?: string) => {
    const db = url ?? (await server.createDatabase());
    const out: PostgresStore[] = [];
    for (let i = 0; i < n; i++) {
      const errors: unknown[] = [];
      const s = await openPostgresStore({
        url: db,
        nodeId: `node-${i}`,
        poolSize: 3,
        onError: (e) => errors.push(e),
      });
      t.teardown(() => s.close());
      out.push(s);
    }
    return out;
  };

  t.test('the feed reconnects after the server drops its connection, and catches up', async (t) => {
    const [a, b] = (await nodes(t, 2)) as [PostgresStore, PostgresStore];
    const u = await user(a, 'alice');
    const v = await user(a, 'bob');
    await a.presence.insertSession('s1', u.id, [v.id], NOW);
    const got: NodeFeedEvent[] = [];
    await b.feed.subscribe((e) => got.push(e));
    const event = (n: number) => ({ type: 'presence', n }) as never;
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(1) });
    await eventually(() => {
      if (got.length < 1) throw new Error('nothing yet');
    });
    // The server ends node-1's LISTEN connection (a restart, a failover, an administrator).
    const killed = await a.pool.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    );
    t.equal(killed.rowCount, 1, 'one listening connection');
    // Published while nobody listens on node-1:
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(2) });
    const r = await a.messages.commit({
      entries: [
        {
          sessionId: 's1',
          fromUserId: u.id,
          kind: 'text',
          text: 'while you were away',
          audioId: null,
          audioUrl: null,
          recipients: [v.id],
          createdAt: NOW,
        },
      ],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.ok(r[0]?.ok);
    await eventually(
      () => {
        if (got.length < 3) throw new Error(`${got.length} of 3`);
      },
      { timeoutMs: 15_000 },
    );
    // Caught up (messages first, then events), or, where LISTEN was back before they were written (a busy
    // machine), notified: either way both arrive.
    const caughtUp = got.slice(1, 3);
    t.match(
      caughtUp.find((e) => e.type === 'message'),
      { message: { text: 'while you were away' } },
    );
    t.match(
      caughtUp.find((e) => e.type === 'link-event'),
      { event: { n: 2 } },
    );
    // And it listens again.
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(3) });
    await eventually(() => {
      if (got.length < 4) throw new Error(`${got.length} of 4`);
    });
    t.match(got[3], { event: { n: 3 } });
    t.equal(got.length, 4, 'nothing twice');
  });

  t.test('a row committed while the catch-up waits is read by it and notified too: given once', async (t) => {
    const db = await server.createDatabase();
    const [a] = (await nodes(t, 1, db)) as [PostgresStore];
    // One pooled connection on node-b: the test holds it, so the catch-up's read waits for it.
    const b = await openPostgresStore({ url: db, nodeId: 'node-b', poolSize: 1 });
    t.teardown(() => b.close());
    const u = await user(a, 'alice');
    const v = await user(a, 'bob');
    await a.presence.insertSession('s1', u.id, [v.id], NOW);
    const got: NodeFeedEvent[] = [];
    await b.feed.subscribe((e) => got.push(e));
    const held = await b.pool.connect();
    let isReleased = false;
    const release = () => {
      if (!isReleased) held.release();
      isReleased = true;
    };
    t.teardown(release);
    await a.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    );
    // node-b listens again and its catch-up waits for a connection.
    await eventually(() => {
      if (b.pool.waitingCount !== 1) throw new Error('the catch-up is not waiting yet');
    });
    // Committed now: after LISTEN (so notified, behind the catch-up) and before the catch-up's read.
    const r = await a.messages.commit({
      entries: [
        {
          sessionId: 's1',
          fromUserId: u.id,
          kind: 'text',
          text: 'during the catch-up',
          audioId: null,
          audioUrl: null,
          recipients: [v.id],
          createdAt: NOW,
        },
      ],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.ok(r[0]?.ok);
    release();
    const texts = () => got.map((e) => (e.type === 'message' ? e.message.text : (e.event as { n?: number }).n));
    // Each event is published once the one before arrived: when the last arrives, every notice before it is handled.
    for (const n of [1, 2]) {
      await a.feed.publish({ type: 'link-event', recipientId: v.id, event: { type: 'presence', n } as never });
      await eventually(() => {
        if (!texts().includes(n)) throw new Error(`no event ${n} yet: ${JSON.stringify(texts())}`);
      });
    }
    t.same(texts(), ['during the catch-up', 1, 2], 'each once');
  });

  t.test('a failing handler is reported and the feed goes on; an idle node skips what arrives', async (t) => {
    const url = await server.createDatabase();
    const [a] = (await nodes(t, 1, url)) as [PostgresStore];
    const errors: unknown[] = [];
    const b = await openPostgresStore({ url, nodeId: 'node-b', onError: (e) => errors.push(e) });
    t.teardown(() => b.close());
    const u = await user(a, 'alice');
    const got: number[] = [];
    let idle = false;
    let asked = 0;
    await b.feed.subscribe(
      (e) => {
        const n = (e as unknown as { event: { n: number } }).event.n;
        if (n === 1) throw new Error('the handler broke');
        got.push(n);
      },
      {
        isIdle: () => {
          asked++;
          return idle;
        },
      },
    );
    const send = (n: number) =>
      a.feed.publish({ type: 'link-event', recipientId: u.id, event: { type: 'presence', n } as never });
    await send(1);
    await send(2);
    await eventually(() => {
      if (got.length < 1) throw new Error('nothing yet');
    });
    t.same(got, [2], 'the event after the failure arrived');
    t.match(errors, [{ message: 'the handler broke' }], 'the failure was reported');
    idle = true;
    const before = asked;
    await send(3);
    await eventually(() => {
      if (asked === before) throw new Error('not handled yet');
    });
    idle = false;
    await send(4);
    await eventually(() => {
      if (got.length < 2) throw new Error('nothing yet');
    });
    t.same(got, [2, 4], 'skipped while idle');
    // A closed committer refuses, as a result, not a rejection.
    a.messages.warm();
    await a.messages.close();
    const r = await a.messages.commit({ entries: [], delivered: [], cursors: [], now: NOW });
    t.same(r, []);
    const r2 = await a.messages.commit({
      entries: [
        {
          sessionId: 'x',
          fromUserId: u.id,
          kind: 'text',
          text: 'late',
          audioId: null,
          audioUrl: null,
          recipients: [],
          createdAt: NOW,
        },
      ],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.match(r2, [{ ok: false, reason: /closed/ }]);
  });

  t.test('a batch of 700 long messages reaches the other node whole and in order', async (t) => {
    const [a, b] = (await nodes(t, 2)) as [PostgresStore, PostgresStore];
    const u = await user(a, 'alice');
    const v = await user(a, 'bob');
    await a.presence.insertSession('s1', u.id, [v.id], NOW);
    const got: NodeFeedEvent[] = [];
    await b.feed.subscribe((e) => got.push(e));
    const long = 'x'.repeat(10_000);
    const results = await a.messages.commit({
      entries: Array.from({ length: 700 }, (_, i) => ({
        sessionId: 's1',
        fromUserId: u.id,
        kind: 'text' as const,
        text: `${i} ${long}`,
        audioId: null,
        audioUrl: null,
        recipients: [v.id],
        createdAt: NOW + i,
      })),
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.ok(results.every((r) => r.ok));
    const ids = results.map((r) => (r as { id: number }).id);
    t.same(
      ids,
      [...ids].sort((x, y) => x - y),
      'ids rise with the entries',
    );
    await eventually(
      () => {
        if (got.length < 700) throw new Error(`${got.length} of 700`);
      },
      { timeoutMs: 20_000 },
    );
    const texts = got.map((e) => (e.type === 'message' ? Number(e.message.text?.split(' ')[0]) : -1));
    t.same(
      texts,
      Array.from({ length: 700 }, (_, i) => i),
    );
    t.equal(
      (await b.presence.messagesFor(v.id, ['pending'], { limit: 1000 })).length,
      700,
      'each with its delivery row',
    );
  });

  t.test('four nodes drain 200 due steps: every step performed once', async (t) => {
    const all = await nodes(t, 4);
    const [a] = all as [PostgresStore];
    const r = await user(a, 'rcpt');
    const steps = Array.from({ length: 200 }, (_, i) => ({
      channel: 'email' as const,
      deviceId: i,
      protocol: null,
      address: `r${i}@example.test`,
      waitMs: 0,
      quietStart: null,
      quietEnd: null,
    }));
    await a.notify.foldMessage(
      { id: 'al', recipientId: r.id, isTest: false, createdAt: NOW, collectUntil: NOW },
      { id: 'm', sessionId: 's', fromUserId: r.id, fromName: 'x', fromSpokenName: 'x', text: 'x', at: NOW },
      NOW,
    );
    await a.notify.startAlert('al', steps, NOW, 'x');
    // Make every step due now (a ladder normally makes one due at a time).
    await a.pool.query('UPDATE notify_steps SET due_at = $1', [NOW]);
    const performed = new Map<number, string>();
    let twice = 0;
    let overLimit = 0;
    const take = (claimed: { id: number }[], k: number) => {
      if (claimed.length > 7) overLimit++;
      for (const step of claimed) {
        if (performed.has(step.id)) twice++;
        performed.set(step.id, `node-${k}`);
      }
    };
    // Every node's first claim goes out together (on a busy machine one node
    // could otherwise drain the lot before the others ask), then each drains
    // at its own pace.
    const firsts = await Promise.all(all.map((s, k) => s.notify.claimDueSteps(`node-${k}`, NOW, 7)));
    for (const [k, claimed] of firsts.entries()) take(claimed, k);
    await Promise.all(
      all.map(async (s, k) => {
        for (let round = 0; round < 200; round++) {
          const claimed = await s.notify.claimDueSteps(`node-${k}`, NOW, 7);
          if (claimed.length === 0) return;
          take(claimed, k);
        }
      }),
    );
    t.equal(performed.size, 200, 'every step claimed');
    t.equal(twice, 0, 'none twice');
    t.equal(overLimit, 0, 'no node took more steps than it asked for');
    t.equal(new Set(performed.values()).size, 4, 'the work was shared: each node claimed its own steps');
    const left = await a.pool.query("SELECT COUNT(*) AS n FROM notify_steps WHERE state = 'scheduled'");
    t.equal(left.rows[0].n, 0);
  });

  t.test('a read-only database is reported as not taking writes', async (t) => {
    const url = await server.createDatabase();
    const [a] = (await nodes(t, 1, url)) as [PostgresStore];
    t.equal(await a.status.isWritable(), true);
    await a.pool.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET default_transaction_read_only = on`);
    const [b] = (await nodes(t, 1, url).catch(() => [undefined])) as [PostgresStore | undefined];
    t.equal(b, undefined, 'a node cannot even migrate it');
    const c = await openPostgresStore({ url, nodeId: 'reader', migrate: false });
    t.teardown(() => c.close());
    t.equal(await c.status.isWritable(), false);
  });

  t.test('the configuration opens it: DATABASE_URL, pool size, statement timeout, node id', async (t) => {
    const url = await server.createDatabase();
    const config = loadConfig({
      env: {
        PHONEIM_STORE__KIND: 'postgres',
        DATABASE_URL: url,
        PHONEIM_STORE__POSTGRES__STATEMENT_TIMEOUT_MS: '200',
        PHONEIM_PRESENCE__NODE_ID: 'node-x',
      },
    });
    const s = await openConfiguredPostgresStore(config);
    t.teardown(() => s.close());
    t.equal(s.kind, 'postgres');
    t.ok((await s.status.schemaVersion()) >= 60, 'migrated on open');
    await t.rejects(s.pool.query('SELECT pg_sleep(3)'), /statement timeout/, 'the timeout applies');
    await s.presence.insertLink('l1', (await user(s, 'x')).id, 'web', 'node-x', NOW);
    t.same((await s.presence.deleteLinksOfNode('node-x')).length, 1);
    await t.rejects(
      openConfiguredPostgresStore({
        ...config,
        store: { ...config.store, postgres: { ...config.store.postgres, url: undefined } },
      }),
      { code: 'CORE_CONFIG_INVALID', message: /store\.postgres\.url/ },
    );
  });
}

if (server) {
  t.test('message ids rise in commit order across nodes, so a reader past an id misses none below it', async (t) => {
    const db = await server.createDatabase();
    const open = async (nodeId: string) => {
      const s = await openPostgresStore({ url: db, nodeId, poolSize: 3, onError: () => {} });
      t.teardown(() => s.close());
      return s;
    };
    const [a, b, c] = [await open('node-a'), await open('node-b'), await open('node-c')];
    const alice = await user(a, 'alice');
    const bob = await user(a, 'bob');
    await a.presence.insertSession('s1', alice.id, [bob.id], NOW);
    const heard: number[] = [];
    await c.feed.subscribe((e) => {
      if (e.type === 'message') heard.push(Number(e.message.id));
    });
    // Node A's transaction stops after its insert, before its commit, until let go.
    let letGo = () => {};
    const gate = new Promise<void>((r) => {
      letGo = r;
    });
    let inserted = () => {};
    const hasInserted = new Promise<void>((r) => {
      inserted = r;
    });
    const connect = a.pool.connect.bind(a.pool);
    // Only the promise form is watched: pool.query's own connect (with a callback) passes through.
    (a.pool as { connect: unknown }).connect = async (...cb: unknown[]) => {
      if (cb.length > 0) return (connect as (...a: unknown[]) => unknown)(...cb);
      const client = await connect();
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as { query: unknown }).query = async (...args: unknown[]) => {
        const out = await query(...args);
        if (typeof args[0] === 'string' && args[0].startsWith('INSERT INTO messages')) {
          inserted();
          await gate;
        }
        return out;
      };
      return client;
    };
    const entry = (text: string) => ({
      sessionId: 's1',
      fromUserId: alice.id,
      kind: 'text' as const,
      text,
      audioId: null,
      audioUrl: null,
      recipients: [bob.id],
      createdAt: NOW,
    });
    const batch = (text: string) => ({ entries: [entry(text)], delivered: [], cursors: [], now: NOW });
    const first = a.messages.commit(batch('first, slow to commit'));
    await hasInserted;
    const second = b.messages.commit(batch('second'));
    // B either waits for A's turn (ids in commit order) or commits at once with a larger id.
    const early = await Promise.race([second.then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
    letGo();
    const [r1, r2] = [await first, await second];
    t.equal(early, false, "node B's commit waited for node A's");
    t.ok(r1[0]?.ok && r2[0]?.ok);
    await eventually(() => {
      if (heard.length < 2) throw new Error(`${heard.length} of 2`);
    });
    t.same(
      heard,
      [...heard].sort((x, y) => x - y),
      'another node hears the ids rising',
    );
    t.ok(r1[0]?.ok && r2[0]?.ok && r1[0].id < r2[0].id, 'the message committed first has the smaller id');
  });
}

if (server) {
  t.test('a batch whose COMMIT the server carried out, its answer lost, is not written again', async (t) => {
    const db = await server.createDatabase();
    const s = await openPostgresStore({ url: db, nodeId: 'node-a', poolSize: 3, onError: () => {} });
    t.teardown(() => s.close());
    const alice = await user(s, 'alice');
    const bob = await user(s, 'bob');
    await s.presence.insertSession('s1', alice.id, [bob.id], NOW);
    let lose = true;
    const connect = s.pool.connect.bind(s.pool);
    // Only the promise form is watched: pool.query's own connect (with a callback) passes through.
    (s.pool as { connect: unknown }).connect = async (...cb: unknown[]) => {
      if (cb.length > 0) return (connect as (...a: unknown[]) => unknown)(...cb);
      const client = await connect();
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as { query: unknown }).query = async (...args: unknown[]) => {
        const out = await query(...args);
        if (args[0] === 'COMMIT' && lose) {
          lose = false;
          throw new Error('Connection terminated unexpectedly');
        }
        return out;
      };
      return client;
    };
    const entries = ['one', 'two'].map((text) => ({
      sessionId: 's1',
      fromUserId: alice.id,
      kind: 'text' as const,
      text,
      audioId: null,
      audioUrl: null,
      recipients: [bob.id],
      createdAt: NOW,
    }));
    const r = await s.messages.commit({ entries, delivered: [], cursors: [], now: NOW });
    t.equal(lose, false, 'the answer to COMMIT was lost');
    t.ok(
      r.every((x) => x.ok),
      'both answered as stored',
    );
    const stored = (await s.presence.messagesFor(bob.id, ['pending'])).map((m) => m.text);
    t.same(stored, ['one', 'two'], 'each stored once');
  });
}
