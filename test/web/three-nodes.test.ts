/**
 * Three nodes of one community on one PostgreSQL, each with its own node id,
 * ports, ARI application and embedded simulator: node 2 as its own process
 * (test/fixtures/platform-node.ts: the whole platform), nodes 1 and 3 as
 * platforms in this process. Alice (web) is on node 1, Bob (web) on node 3;
 * Carol is a phone user who calls node 2 (its simulator driven over its
 * control API, as a caller on another machine): she logs on by caller ID and
 * PIN, hears Alice's and Bob's messages read aloud by node 2, and replies by
 * voice; Alice and Bob get the voice message over their WebSockets. Messages
 * cross the nodes over LISTEN/NOTIFY. Then Carol, on the web at node 2 this
 * time, writes to Dave (no link; three mailboxes, one email step each), and
 * node 2 is SIGKILLed while his alert ladder is between steps: the other
 * nodes finish it, each step once. Carol's web session object was on node 2:
 * node 1 redirects her there while node 2's lease runs, then takes her over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { buildServices, Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseWav } from '../../src/sim/wav.js';
import { openStore } from '../../src/store/index.js';
import { FAST_IVR } from '../ivr/support/sim-harness.js';
import { entryArgs, eventually, ROOT, testConfig } from '../support/env.js';
import { startSmtp } from '../support/notify.js';
import { postgresForTests } from '../support/postgres.js';
import { ApiClient, PASSWORD, WsClient } from '../support/presence.js';
import { RemotePhone } from '../support/remote-phone.js';

const LEASE_SECONDS = 3;
const CAROL_PHONE = '+15550103';
const CAROL_PIN = '1357';
const REPLY_WAV = join(ROOT, 'test/fixtures/ivr/reply.wav');

interface Node {
  child: ChildProcess;
  url: string;
  app: string;
  /** Its simulator's control API. */
  control: string;
}

function startNode(t: Test, overrides: Record<string, unknown>): Promise<Node> {
  const child = spawn(process.execPath, [...entryArgs('test/fixtures/platform-node.ts'), JSON.stringify(overrides)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => kill(child, 'SIGKILL'));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+) (\S+) (\S+)$/m.exec(out);
      if (m) resolve({ child, url: m[1] as string, app: m[2] as string, control: m[3] as string });
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
      // Carol is a phone user: she logs on by caller ID and PIN.
      ...(name === 'carol' ? { pin: CAROL_PIN, callerIds: [CAROL_PHONE] } : {}),
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

  const controlToken = randomBytes(24).toString('base64url');
  const nodeConfig = (n: number) => ({
    dataDir: join(dir, `node-${n}`),
    log: { level: 'silent' },
    http: { port: 0 },
    accounts: { kdfCost: 1024 },
    store,
    presence: { nodeId: `node-${n}`, leaseSeconds: LEASE_SECONDS },
    telephony: { ari: { app: `phoneim-node-${n}` } },
    // Prompts at 20 times real time, every timeout a caller would notice still in force.
    sim: { speedFactor: 20, controlToken },
    ivr: FAST_IVR,
    notify: {
      collectDelaySeconds: 0,
      ladderKinds: ['email'],
      waitAfterEmailSeconds: 2,
      pollSeconds: 1,
      smtp: { port: smtp.port },
    },
  });
  // Node 2, the one that dies, is its own process, from the build when that is up to date (on the TypeScript
  // loader it took over 30 s to start on a busy 2-core machine); nodes 1 and 3 run in this process (each its own
  // Platform, store connections, LISTEN connection and listener), which has loaded the sources already.
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
  const bob = await ApiClient.login(n3.url, 'bob');
  const aliceWs = await WsClient.connect(n1.url, alice.token);
  const bobWs = await WsClient.connect(n3.url, bob.token);
  t.teardown(async () => {
    await aliceWs.close();
    await bobWs.close();
  });

  // Alice (node 1) opens a session with Bob (node 3) and Carol; Bob accepts on his node and they chat.
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob', 'carol'] });
  t.equal(created.status, 201);
  const sid = (created.body as { id: string }).id;
  t.equal((await bob.call('POST', `/api/v1/sessions/${sid}/accept`)).status, 200);
  t.equal((await aliceWs.request({ type: 'send', sessionId: sid, text: 'Carol, can you hear me?' })).type, 'ack');
  t.same(
    (await bobWs.waitMessages(1)).map((m) => m.text),
    ['Carol, can you hear me?'],
    'node 1 to node 3',
  );
  t.equal((await bobWs.request({ type: 'send', sessionId: sid, text: 'She is on the phone' })).type, 'ack');
  t.same(
    (await aliceWs.waitMessages(1)).map((m) => m.text),
    ['She is on the phone'],
    'node 3 to node 1',
  );

  // Carol calls node 2 from her phone (its simulator, driven from outside that process).
  const phone = await RemotePhone.connect(n2.control, controlToken);
  t.teardown(() => phone.close());
  const call = await phone.call(CAROL_PHONE, '100');
  await call.hears(/^Welcome back, Carol\. Please enter your PIN/);
  await call.pressKeys(`${CAROL_PIN}#`);
  await call.hears(/^You have 2 new messages\.$/);
  t.match((await call.hears(/^From Alice/)).text, /^From Alice, today at \d\d:\d\d\.$/);
  const body = await call.hears(/^Carol, can you hear me\?$/);
  t.pass("node 2 reads Alice's message (node 1) to Carol");
  // What she heard is node 2's speech of those words: a signed URL of node 2 that serves a WAV.
  const spokenUrl = body.media.replace(/^sound:/, '');
  t.ok(spokenUrl.startsWith(`${n2.url}/`), `node 2 serves the speech (${spokenUrl})`);
  const spoken = await fetch(spokenUrl);
  t.equal(spoken.status, 200);
  t.ok((parseWav(Buffer.from(await spoken.arrayBuffer()))?.durationMs ?? 0) > 500, 'a WAV of speech');
  await call.hears(/^Press 1 to hear it again, 5 to reply/);
  await call.pressKeys('5');
  await call.hears(/^Record your reply after the tone/);
  // She speaks, then falls silent: the silence ends the recording.
  await call.speak(REPLY_WAV);
  await call.hears(/^Press 1 to send it/);
  await call.pressKeys('1');
  await call.hears(/^Your reply was sent\.$/);

  // Alice (node 1) and Bob (node 3) receive her voice message, its audio a WAV of what she said.
  const said = parseWav(readFileSync(REPLY_WAV));
  for (const [who, ws] of [
    ['Alice on node 1', aliceWs],
    ['Bob on node 3', bobWs],
  ] as const) {
    const frame = await ws.next((f) => f.type === 'message' && (f.message as { kind: string }).kind === 'voice');
    const voice = frame.message as { fromUserId: number; sessionId: string; audioUrl: string };
    t.same([voice.fromUserId, voice.sessionId], [ids.carol, sid], `${who} gets Carol's voice reply in the session`);
    const res = await fetch(voice.audioUrl);
    t.equal(res.status, 200, `${who} can play it (${voice.audioUrl})`);
    const served = parseWav(Buffer.from(await res.arrayBuffer()));
    t.ok(
      served && said && Math.abs(served.durationMs - said.durationMs) < 600,
      `a WAV as long as what she said: ${served?.durationMs} ms, said ${said?.durationMs} ms`,
    );
  }
  t.match((await call.hears(/^From Bob/)).text, /^From Bob, today at \d\d:\d\d\.$/);
  await call.hears(/^She is on the phone$/);
  t.pass("and Bob's message (node 3)");
  await call.hangup();

  // Carol on the web at node 2 now: her session object lives there.
  const carol = await ApiClient.login(n2.url, 'carol');
  const carolWs = await WsClient.connect(n2.url, carol.token);
  t.teardown(() => carolWs.close());

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
  const alertRows = await db.query<{ state: string }>('SELECT state FROM notify_alerts WHERE recipient_id = $1', [
    ids.dave,
  ]);
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
