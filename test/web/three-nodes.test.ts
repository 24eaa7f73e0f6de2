/**
 * Three nodes of one community on one PostgreSQL, each with its own node id,
 * ports and ARI application: node 2 as its own process
 * (test/fixtures/platform-node.ts: the whole platform), nodes 1 and 3 as
 * platforms in this process. Alice is on node 1, Carol on node 2, Bob on node 3,
 * all web users (the phone part through each node's simulator is left out:
 * the IVR's own tests cover it; here the three are web users). Messages cross
 * the nodes over LISTEN/NOTIFY. Node 2 is SIGKILLed while an alert ladder for
 * Dave (no link; three mailboxes, one email step each) is between steps: the
 * other nodes finish it, each step once. Carol's session object was on node 2:
 * node 1 redirects her there while node 2's lease runs, then takes her over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { buildServices, Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/index.js';
import { eventually, ROOT, testConfig } from '../support/env.js';
import { startSmtp } from '../support/notify.js';
import { postgresForTests } from '../support/postgres.js';
import { ApiClient, PASSWORD, WsClient } from '../support/presence.js';

const LEASE_SECONDS = 3;

interface Node {
  child: ChildProcess;
  url: string;
  app: string;
}

function startNode(t: Test, overrides: Record<string, unknown>): Promise<Node> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(ROOT, 'test/fixtures/platform-node.ts'), JSON.stringify(overrides)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => kill(child, 'SIGKILL'));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+) (\S+)$/m.exec(out);
      if (m) resolve({ child, url: m[1] as string, app: m[2] as string });
    });
    child.once('exit', (code, signal) => reject(new Error(`node exited early (${code ?? signal})`)));
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill(signal);
  });
}

t.test('three nodes: chat across them, a node killed mid-ladder, its users taken over', async (t) => {
  const server = await postgresForTests(t);
  if (!server) return;
  const url = await server.createDatabase();
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const dir = t.testdir({});
  const store = { kind: 'postgres', postgres: { url, poolSize: 4 } };

  // The community, written by an admin process (as phonectl would) before the nodes start.
  const setup = testConfig(join(dir, 'admin'), { store, presence: { nodeId: 'admin' } });
  const admin = buildServices({ config: setup, log: silentLogger(), store: await openStore(setup) });
  const ids: Record<string, number> = {};
  for (const name of ['alice', 'bob', 'carol', 'dave']) {
    const u = await admin.accounts.createUser({
      username: name,
      displayName: name[0]?.toUpperCase() + name.slice(1),
      password: PASSWORD,
    });
    ids[name] = u.id;
  }
  for (const n of [1, 2, 3]) await admin.accounts.addDevice('dave', { kind: 'email', address: `dave${n}@example.com` });
  const p = admin.presence;
  for (const [a, b] of [
    ['alice', 'bob'],
    ['alice', 'carol'],
    ['bob', 'carol'],
    ['carol', 'dave'],
  ] as const) {
    await p.requestContact(ids[a] as number, ids[b] as number);
    await p.approveContact(ids[b] as number, ids[a] as number);
  }
  await admin.store.close();

  const nodeConfig = (n: number) => ({
    dataDir: join(dir, `node-${n}`),
    log: { level: 'silent' },
    http: { port: 0 },
    accounts: { kdfCost: 1024 },
    store,
    presence: { nodeId: `node-${n}`, leaseSeconds: LEASE_SECONDS },
    telephony: { ari: { app: `phoneim-node-${n}` } },
    notify: {
      collectDelaySeconds: 0,
      ladderKinds: ['email'],
      waitAfterEmailSeconds: 2,
      pollSeconds: 1,
      smtp: { port: smtp.port },
    },
  });
  // Node 2, the one that dies, is its own process; nodes 1 and 3 run in this process (each its own Platform,
  // store connections, LISTEN connection and listener): a child process costs a whole TypeScript load, and
  // three at once on a busy 2-core machine took most of a minute.
  const starting2 = startNode(t, nodeConfig(2));
  const inProcess = async (n: number): Promise<{ platform: Platform; url: string; app: string }> => {
    const config = loadConfig({ env: {}, overrides: nodeConfig(n) });
    const platform = new Platform({ config, log: silentLogger(), store: await openStore(config) });
    t.teardown(() => platform.stop());
    return { platform, url: await platform.start(), app: config.telephony.ari.app };
  };
  const [n1, n3] = await Promise.all([inProcess(1), inProcess(3)]);
  const n2 = await starting2;
  t.same(
    [n1.app, n2.app, n3.app],
    ['phoneim-node-1', 'phoneim-node-2', 'phoneim-node-3'],
    'each node has its own ARI application',
  );

  const alice = await ApiClient.login(n1.url, 'alice');
  const carol = await ApiClient.login(n2.url, 'carol');
  const bob = await ApiClient.login(n3.url, 'bob');
  const aliceWs = await WsClient.connect(n1.url, alice.token);
  const carolWs = await WsClient.connect(n2.url, carol.token);
  const bobWs = await WsClient.connect(n3.url, bob.token);
  t.teardown(async () => {
    await aliceWs.close();
    await carolWs.close();
    await bobWs.close();
  });

  // Alice (node 1) opens a session with Bob (node 3) and Carol (node 2); each accepts on their own node.
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob', 'carol'] });
  t.equal(created.status, 201);
  const sid = (created.body as { id: string }).id;
  t.equal((await bob.call('POST', `/api/v1/sessions/${sid}/accept`)).status, 200);
  t.equal((await carol.call('POST', `/api/v1/sessions/${sid}/accept`)).status, 200);

  t.equal((await aliceWs.request({ type: 'send', sessionId: sid, text: 'hello from node 1' })).type, 'ack');
  t.same(
    (await bobWs.waitMessages(1)).map((m) => m.text),
    ['hello from node 1'],
    'node 1 to node 3',
  );
  t.same(
    (await carolWs.waitMessages(1)).map((m) => m.text),
    ['hello from node 1'],
    'node 1 to node 2',
  );
  t.equal((await bobWs.request({ type: 'send', sessionId: sid, text: 'hi back from node 3' })).type, 'ack');
  t.same(
    (await aliceWs.waitMessages(1)).map((m) => m.text),
    ['hi back from node 3'],
    'node 3 to node 1',
  );
  t.equal((await carolWs.request({ type: 'send', sessionId: sid, text: 'and node 2' })).type, 'ack');
  t.same((await aliceWs.waitMessages(2)).map((m) => m.text).slice(1), ['and node 2'], 'node 2 to node 1');
  t.same((await bobWs.waitMessages(2)).map((m) => m.text).slice(1), ['and node 2'], 'node 2 to node 3');

  // Carol (node 2) writes to Dave, who has no link: an alert ladder of three emails, two seconds apart.
  const toDave = await carol.call('POST', '/api/v1/sessions', { invitees: ['dave'] });
  t.equal(toDave.status, 201);
  const daveSid = (toDave.body as { id: string }).id;
  t.equal((await carolWs.request({ type: 'send', sessionId: daveSid, text: 'Dave, are you there?' })).type, 'ack');

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  const steps = async () =>
    (
      await db.query<{ position: number; state: string; attempts: number; node_id: string | null; address: string }>(
        'SELECT position, state, attempts, node_id, address FROM notify_steps ORDER BY position',
      )
    ).rows;
  await eventually(
    async () => {
      const s = await steps();
      if (s[0]?.state !== 'delivered') throw new Error(`first step: ${JSON.stringify(s[0])}`);
    },
    { timeoutMs: 20_000 },
  );
  t.equal(smtp.mails.length, 1, 'the first email is out');

  // Node 2 dies between steps.
  await kill(n2.child, 'SIGKILL');
  t.equal(n2.child.signalCode, 'SIGKILL');
  const carolOn1 = new ApiClient(n1.url);
  carolOn1.token = carol.token;
  const early = await carolOn1.call('GET', '/api/v1/sessions');
  t.equal(early.status, 307, 'within the lease node 1 sends Carol to node 2');
  t.equal(early.location, `${n2.url}/api/v1/sessions`);

  // The other nodes finish Dave's ladder: every step performed once, none lost.
  await eventually(
    async () => {
      const s = await steps();
      if (s.length !== 3 || s.some((x) => x.state !== 'delivered')) throw new Error(JSON.stringify(s));
    },
    { timeoutMs: 20_000 },
  );
  const done = await steps();
  t.same(
    done.map((s) => [s.position, s.state, s.attempts]),
    [
      [0, 'delivered', 1],
      [1, 'delivered', 1],
      [2, 'delivered', 1],
    ].map(([pos, st, a]) => [(done[0]?.position ?? 0) + (pos as number), st, a]),
  );
  t.notOk(
    done.slice(1).some((s) => s.node_id === 'node-2'),
    `steps after the kill performed by the living nodes (${done.map((s) => s.node_id).join(', ')})`,
  );
  await eventually(() => {
    if (smtp.mails.length < 3) throw new Error(`${smtp.mails.length} emails`);
  });
  t.same(
    smtp.rcpt.map((r) => r.join(',')).sort(),
    ['dave1@example.com', 'dave2@example.com', 'dave3@example.com'],
    'one email to each mailbox, none twice',
  );
  const alertRows = await db.query<{ state: string }>('SELECT state FROM notify_alerts');
  t.same(
    alertRows.rows.map((r) => r.state),
    ['done'],
  );

  // After node 2's lease lapses node 1 takes Carol over: her sessions are there.
  const mine = await eventually(
    async () => {
      const r = await carolOn1.call('GET', '/api/v1/sessions');
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return r;
    },
    { timeoutMs: 15_000 },
  );
  const listed = (mine.body as { sessions: { id: string }[] }).sessions.map((s) => s.id).sort();
  t.same(listed, [sid, daveSid].sort(), 'Carol finds her sessions on node 1');
  const carolWs1 = await WsClient.connect(n1.url, carol.token);
  t.teardown(() => carolWs1.close());
  t.equal((await carolWs1.request({ type: 'send', sessionId: sid, text: 'moved to node 1' })).type, 'ack');
  t.same((await bobWs.waitMessages(3)).map((m) => m.text).slice(2), ['moved to node 1'], 'Bob on node 3 hears her');
});
