/**
 * The PostgreSQL store under load, at the ports: the message cache's group
 * commit (batches of 50, durable at commit, with the NOTIFY to other nodes)
 * and the time from a commit on one node to the message reaching another
 * node's feed; then four nodes claiming 2,000 due ladder steps at once with
 * SKIP LOCKED. Uses DATABASE_URL when set (a database it may fill), or
 * starts a private server like the tests. Bounded: at most 20,000 messages
 * or 10 s of commits, and 2,000 steps.
 */
import type { NodeFeedEvent } from '../../src/presence/ports.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { percentile, report } from './report.js';

const MAX_MESSAGES = 20_000;
const MAX_MS = 10_000;
const BATCH = 50;
const STEPS = 2000;
const NOW = Date.now();

let server: TestPostgres | undefined;
let url = process.env.DATABASE_URL;
if (!url) {
  const s = await startPostgres();
  if ('unavailable' in s) {
    console.log(`PostgreSQL not available: ${s.unavailable}; nothing measured`);
    process.exit(0);
  }
  server = s;
  url = await s.createDatabase();
}

const open = (nodeId: string) => openPostgresStore({ url: url as string, nodeId, poolSize: 4 });
const stores: PostgresStore[] = [];
try {
  const a = await open('bench-a');
  const b = await open('bench-b');
  stores.push(a, b);
  const mk = (name: string) =>
    a.accounts.insertUser({
      username: `${name}-${NOW}`,
      accountNumber: `${name}-${NOW}`,
      displayName: name,
      spokenName: name,
      timeZone: 'UTC',
      createdAt: NOW,
      credentials: [],
      callerIds: [],
    });
  const u = await mk('sender');
  const v = await mk('reader');
  const session = `bench-${NOW}`;
  await a.presence.insertSession(session, u.id, [v.id], NOW);
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  await b.feed.subscribe((e: NodeFeedEvent) => {
    if (e.type !== 'message') return;
    const t0 = sentAt.get(e.message.id);
    if (t0 !== undefined) lags.push(performance.now() - t0);
  });
  let stored = 0;
  let commits = 0;
  const start = performance.now();
  while (stored < MAX_MESSAGES && performance.now() - start < MAX_MS) {
    const t0 = performance.now();
    const r = await a.messages.commit({
      entries: Array.from({ length: BATCH }, (_, i) => ({
        sessionId: session,
        fromUserId: u.id,
        kind: 'text' as const,
        text: `message ${stored + i}`,
        audioId: null,
        audioUrl: null,
        recipients: [v.id],
        createdAt: NOW,
      })),
      delivered: [],
      cursors: [],
      now: NOW,
    });
    for (const x of r) if (x.ok) sentAt.set(String(x.id), t0);
    stored += r.filter((x) => x.ok).length;
    commits++;
  }
  const seconds = (performance.now() - start) / 1000;
  const deadline = performance.now() + 10_000;
  while (lags.length < stored && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  lags.sort((x, y) => x - y);
  const pct = (p: number) => percentile(lags, p / 100).toFixed(1);
  console.log(`group commit on PostgreSQL (batches of ${BATCH}, NOTIFY in the transaction)`);
  if (server) console.log('  (a private test server: fsync and synchronous_commit off, so not a durability figure)');
  console.log(`  stored:     ${stored} messages in ${commits} commits, ${seconds.toFixed(2)} s`);
  console.log(`  throughput: ${Math.round(stored / seconds)} messages/s`);
  console.log(`cross-node delivery (commit start on node A -> node B's feed handler, LISTEN/NOTIFY)`);
  console.log(`  received:   ${lags.length} of ${stored}`);
  console.log(`  latency:    p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`);
  report({
    bench: 'store-postgres',
    what: 'group commit (batches, NOTIFY inside)',
    value: stored / seconds,
    unit: 'msg/s',
  });
  report({ bench: 'store-postgres', what: 'commit on A to feed on B p99', value: percentile(lags, 0.99), unit: 'ms' });

  // Four nodes, one ladder of STEPS due steps.
  const c = await open('bench-c');
  const d = await open('bench-d');
  stores.push(c, d);
  const r = await mk('rcpt');
  const alertId = `bench-alert-${NOW}`;
  await a.notify.foldMessage(
    { id: alertId, recipientId: r.id, isTest: true, createdAt: NOW, collectUntil: NOW },
    { id: 'm', sessionId: session, fromUserId: u.id, fromName: 'x', fromSpokenName: 'x', text: 'x', at: NOW },
    NOW,
  );
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    channel: 'email' as const,
    deviceId: i,
    protocol: null,
    address: `r${i}@example.test`,
    waitMs: 0,
    quietStart: null,
    quietEnd: null,
  }));
  await a.notify.startAlert(alertId, steps, NOW, 'x');
  await a.pool.query('UPDATE notify_steps SET due_at = $1 WHERE alert_id = $2', [NOW, alertId]);
  const seen = new Set<number>();
  let twice = 0;
  const perNode: number[] = [];
  const t1 = performance.now();
  await Promise.all(
    [a, b, c, d].map(async (s, k) => {
      perNode[k] = 0;
      for (let round = 0; round < STEPS; round++) {
        const got = await s.notify.claimDueSteps(`bench-${k}`, NOW, 10);
        if (got.length === 0) return;
        for (const x of got) {
          if (seen.has(x.id)) twice++;
          seen.add(x.id);
          perNode[k] = (perNode[k] ?? 0) + 1;
        }
      }
    }),
  );
  const s2 = (performance.now() - t1) / 1000;
  console.log(`ladder steps claimed by 4 nodes at once (FOR UPDATE SKIP LOCKED, 10 per claim)`);
  console.log(`  claimed:    ${seen.size} of ${STEPS} in ${s2.toFixed(2)} s (${Math.round(seen.size / s2)} steps/s)`);
  console.log(`  twice:      ${twice}; per node: ${perNode.join(', ')}`);
  report({
    bench: 'store-postgres',
    what: `steps claimed by 4 nodes (${STEPS})`,
    value: seen.size / s2,
    unit: 'steps/s',
    goal: { text: 'none claimed twice', met: twice === 0 && seen.size === STEPS },
  });
} finally {
  for (const s of stores) await s.close();
  await server?.stop();
}
