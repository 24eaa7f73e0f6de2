/**
 * The store contract: what every backend's adapters must do, run against
 * each of them (contract-sqlite.test.ts, contract-postgres.test.ts), the way
 * Prosody runs one storage spec against every backend. Each test opens a
 * fresh database; a test that needs several nodes opens several stores on it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Test } from 'tap';
import type { NewUserRow } from '../../src/accounts/ports.js';
import type { User } from '../../src/accounts/types.js';
import type { NewSmsReplyCode } from '../../src/notify/ports.js';
import type { UnreachableMessage } from '../../src/notify/types.js';
import type { CommitEntry, NodeFeedEvent } from '../../src/presence/ports.js';
import { AudioService } from '../../src/audio/audio-service.js';
import { audioPlugin } from '../../src/audio/routes.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Store } from '../../src/store/index.js';
import { watchedEngines } from '../audio/helpers.js';
import { eventually, testConfig } from '../support/env.js';

/** One empty database of the backend, on which stores (nodes) are opened. */
export interface ContractDatabase {
  /** A migrated store on this database for node `nodeId`; closed when the test ends. */
  open(nodeId: string): Promise<Store>;
  /** Runs SQL on the database directly (to play a newer version's migration). */
  exec(sql: string): Promise<void>;
}

export interface ContractBackend {
  name: string;
  /** A new, empty database; what it holds is removed when the test ends. */
  database(t: Test): Promise<ContractDatabase>;
}

const NOW = 1_764_400_000_000;

let counter = 0;
function newUser(over: Partial<NewUserRow> = {}): NewUserRow {
  counter += 1;
  return {
    username: `user${counter}`,
    accountNumber: String(100_000 + counter),
    displayName: `User ${counter}`,
    spokenName: `User ${counter}`,
    timeZone: 'UTC',
    createdAt: NOW,
    credentials: [{ kind: 'pin', hash: `pin-hash-${counter}` }],
    callerIds: [],
    ...over,
  };
}

/** A web session object of node-a, new at NOW. */
const sessionObject = (id: string, userId: number) => ({
  id,
  userId,
  client: 'web',
  csrf: 'c',
  nodeId: 'node-a',
  cursor: '0',
  createdAt: NOW,
  lastSeenAt: NOW,
});

async function users(store: Store, n: number): Promise<User[]> {
  const out: User[] = [];
  for (let i = 0; i < n; i++) out.push(await store.accounts.insertUser(newUser()));
  return out;
}

const text = (sessionId: string, from: number, body: string, recipients: number[], at = NOW): CommitEntry => ({
  sessionId,
  fromUserId: from,
  kind: 'text',
  text: body,
  audioId: null,
  audioUrl: null,
  recipients,
  createdAt: at,
});

const unreachable = (id: string, sessionId: string, from: number, at = NOW): UnreachableMessage => ({
  id,
  sessionId,
  fromUserId: from,
  fromName: 'Alice Jones',
  fromSpokenName: 'Alice',
  text: `message ${id}`,
  at,
});

const planned = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    channel: 'email' as const,
    deviceId: i + 1,
    protocol: null,
    address: `a${i}@example.test`,
    waitMs: 60_000,
    quietStart: null,
    quietEnd: null,
  }));

/** One node's audio file server: its own data directory (its disk), on its own store of the shared database. */
function speechNode(t: Test, dir: string, store: Store, audio: Record<string, unknown> = {}) {
  const engines = watchedEngines(dir);
  const service = new AudioService({
    config: testConfig(dir, {
      audio: { urlSecret: 'one secret for every node of the community', soundsDir: join(dir, 'sounds'), ...audio },
    }),
    store: store.audio,
    clock: new ManualClock(NOW),
    log: silentLogger(),
    baseUrl: () => 'http://127.0.0.1:8080',
    engines,
  });
  t.teardown(() => service.close());
  return { service, calls: () => Object.values(engines).reduce((n, e) => n + e.calls, 0) };
}

/** Two nodes' data directories (two machines' disks), removed when the test ends. */
function nodeDirs(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'phoneim-speech-nodes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['a', 'b']) mkdirSync(join(dir, d));
  return dir;
}

/** Bytes of the audio files under a node's audio folder (engine scratch files aside). */
function diskBytes(dir: string): number {
  let total = 0;
  const audio = join(dir, 'audio');
  for (const sub of existsSync(audio) ? readdirSync(audio) : [])
    if (sub !== 'tmp') for (const f of readdirSync(join(audio, sub))) total += statSync(join(audio, sub, f)).size;
  return total;
}

const speechIds = async (store: Store) =>
  (await store.audio.loadIndex())
    .filter((e) => e.kind !== 'recording')
    .map((e) => e.id)
    .sort();

/** About 20 seconds of 8 kHz speech each (some 320 KB): four are over the smallest cache (1 MiB). */
const longText = (n: number) =>
  `Item ${n}. ${'This sentence is here to make the message long enough to fill the cache quickly. '.repeat(5)}`;

export function storeContract(t: Test, backend: ContractBackend): void {
  const one = async (t: Test, nodeId = 'node-a') => (await backend.database(t)).open(nodeId);

  t.test(`${backend.name}: accounts - users, credentials, caller IDs`, async (t) => {
    const s = await one(t);
    const alice = await s.accounts.insertUser(
      newUser({
        username: 'alice',
        accountNumber: '5551000',
        displayName: 'Alice Jones',
        callerIds: ['+15550100', '+15550101'],
        credentials: [
          { kind: 'pin', hash: 'h-pin' },
          { kind: 'password', hash: 'h-pw' },
        ],
      }),
    );
    t.match(alice, { id: Number, username: 'alice', accountNumber: '5551000', displayName: 'Alice Jones' });
    t.equal(alice.createdAt, NOW, 'times are milliseconds, as given');
    t.same(await s.accounts.userById(alice.id), alice);
    t.same(await s.accounts.userByUsername('alice'), alice);
    t.same(await s.accounts.userByAccountNumber('5551000'), alice);
    t.same(await s.accounts.userByCallerId('+15550101'), alice);
    t.equal(await s.accounts.userByCallerId('+19999999'), null);
    t.equal(await s.accounts.userById(alice.id + 1000), null);
    const bob = await s.accounts.insertUser(newUser({ username: 'Bob' }));
    const carol = await s.accounts.insertUser(newUser({ username: 'carol' }));
    t.same(
      (await s.accounts.listUsers()).map((u) => u.username),
      ['Bob', 'alice', 'carol'],
      'by username, byte order',
    );
    t.ok(bob.id > alice.id && carol.id > bob.id, 'ids rise');
    t.equal(await s.accounts.accountNumberTaken('5551000'), true);
    t.equal(await s.accounts.accountNumberTaken('5551001'), false);

    await t.rejects(s.accounts.insertUser(newUser({ username: 'alice' })), { code: 'ACCOUNTS_USER_EXISTS' });
    await t.rejects(s.accounts.insertUser(newUser({ accountNumber: '5551000' })), { code: 'ACCOUNTS_USER_EXISTS' });
    await t.rejects(s.accounts.insertUser(newUser({ username: 'dave', callerIds: ['+15550100'] })), {
      code: 'ACCOUNTS_CALLER_ID_TAKEN',
    });
    t.equal(await s.accounts.userByUsername('dave'), null, 'the failed insert left no half-made user');

    await s.accounts.updateUser(alice.id, { displayName: 'Alice J.' });
    t.match(await s.accounts.userById(alice.id), { displayName: 'Alice J.', spokenName: alice.spokenName });
    await s.accounts.updateUser(alice.id + 1000, { displayName: 'nobody' });

    t.notOk('language' in (alice as object), 'no language until one is set: the default applies');
    t.equal(await s.accounts.setLanguage(alice.id, 'es'), true);
    t.match(await s.accounts.userById(alice.id), { language: 'es', displayName: 'Alice J.' });
    t.match(await s.accounts.userByUsername('alice'), { language: 'es' });
    t.equal(await s.accounts.setLanguage(alice.id, 'fr-CA'), true);
    t.equal((await s.accounts.userByCallerId('+15550100'))?.language, 'fr-CA');
    t.equal(await s.accounts.setLanguage(alice.id, null), true);
    t.notOk('language' in ((await s.accounts.userById(alice.id)) as object), 'cleared: the default again');
    t.equal(await s.accounts.setLanguage(alice.id + 1000, 'de'), false, 'no such user');

    t.same(await s.accounts.credential(alice.id, 'password'), { hash: 'h-pw', failedCount: 0, lockedUntil: null });
    t.equal(await s.accounts.credential(bob.id, 'password'), null);

    t.same(await s.accounts.callerIds(alice.id), ['+15550100', '+15550101']);
    t.equal(await s.accounts.callerIdOwner('+15550100'), alice.id);
    await s.accounts.insertCallerId(bob.id, '+15550200', NOW + 1);
    await t.rejects(s.accounts.insertCallerId(carol.id, '+15550200', NOW + 2), { code: 'ACCOUNTS_CALLER_ID_TAKEN' });
    t.equal(await s.accounts.deleteCallerId(carol.id, '+15550200'), false, "not carol's");
    t.equal(await s.accounts.deleteCallerId(bob.id, '+15550200'), true);
    t.equal(await s.accounts.callerIdOwner('+15550200'), null);

    t.equal(await s.accounts.deleteUser(alice.id), true);
    t.equal(await s.accounts.deleteUser(alice.id), false);
    t.equal(await s.accounts.callerIdOwner('+15550100'), null, 'caller IDs go with the user');
    t.equal(await s.accounts.credential(alice.id, 'pin'), null, 'credentials go with the user');
  });

  t.test(`${backend.name}: accounts - log-on tries lock out, on several nodes at once`, async (t) => {
    const db = await backend.database(t);
    const a = await db.open('node-a');
    const b = await db.open('node-b');
    const [u] = (await users(a, 1)) as [User];
    const target = { userId: u.id, kind: 'pin' as const };
    t.same(await a.accounts.reserveTry(target, NOW, 3, NOW + 300_000), { ok: true, failedCount: 1, lockedUntil: null });
    t.same(await b.accounts.reserveTry(target, NOW, 3, NOW + 300_000), { ok: true, failedCount: 2, lockedUntil: null });
    t.same(await a.accounts.reserveTry(target, NOW, 3, NOW + 300_000), {
      ok: true,
      failedCount: 3,
      lockedUntil: NOW + 300_000,
    });
    t.same(await b.accounts.reserveTry(target, NOW + 1, 3, NOW + 300_001), { ok: false, lockedUntil: NOW + 300_000 });
    t.same(await a.accounts.reserveTry(target, NOW + 300_001, 3, NOW + 600_001), {
      ok: true,
      failedCount: 1,
      lockedUntil: null,
    });
    await a.accounts.clearFailures(u.id, 'pin');
    t.same(await a.accounts.credential(u.id, 'pin'), {
      hash: (await a.accounts.credential(u.id, 'pin'))?.hash,
      failedCount: 0,
      lockedUntil: null,
    });
    await a.accounts.upsertCredential(u.id, 'password', 'new-hash', NOW);
    t.same(await b.accounts.credential(u.id, 'password'), { hash: 'new-hash', failedCount: 0, lockedUntil: null });
    t.same(await a.accounts.reserveTry({ userId: u.id, kind: 'password' }, NOW, 3, NOW + 1), {
      ok: true,
      failedCount: 1,
      lockedUntil: null,
    });
    await a.accounts.clearFailures(u.id);
    t.equal((await a.accounts.credential(u.id, 'password'))?.failedCount, 0);
    await a.accounts.upsertCredential(u.id, 'password', 'newer-hash', NOW);

    // A user with no such credential: refused, nothing to count.
    const [v] = (await users(a, 1)) as [User];
    t.same(await a.accounts.reserveTry({ userId: v.id, kind: 'password' }, NOW, 3, NOW + 1), {
      ok: false,
      lockedUntil: NOW,
    });

    // Twenty tries at once on two nodes against one unknown name: exactly three are let through.
    const tries = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).accounts.reserveTry({ key: 'account:999' }, NOW, 3, NOW + 60_000),
      ),
    );
    t.equal(tries.filter((r) => r.ok).length, 3, 'at most maxTries checked per window');
    t.same(
      tries
        .filter((r) => r.ok)
        .map((r) => (r as { failedCount: number }).failedCount)
        .sort(),
      [1, 2, 3],
    );
    t.same(await a.accounts.reserveTry({ key: 'account:999' }, NOW + 1, 3, NOW + 1), {
      ok: false,
      lockedUntil: NOW + 60_000,
    });
    // A day later an idle key is forgotten and counts from one again.
    const later = NOW + 2 * 24 * 3600 * 1000;
    t.same(await a.accounts.reserveTry({ key: 'account:999' }, later, 3, later + 1), {
      ok: true,
      failedCount: 1,
      lockedUntil: null,
    });
  });

  t.test(`${backend.name}: accounts - the device registry`, async (t) => {
    const s = await one(t);
    const [u, w] = (await users(s, 2)) as [User, User];
    const dev = (kind: 'phone' | 'pager' | 'email', address: string, asteriskDevice: string | null = null) => ({
      kind,
      address,
      protocol: kind === 'pager' ? ('snpp' as const) : null,
      label: null,
      quietStart: null,
      quietEnd: null,
      asteriskDevice,
    });
    const phone = await s.accounts.insertDevice(u.id, dev('phone', '+15550100', 'PJSIP/desk'), NOW);
    const pager = await s.accounts.insertDevice(u.id, dev('pager', '12345'), NOW);
    const mail = await s.accounts.insertDevice(u.id, dev('email', 'u@example.test'), NOW);
    t.same(
      [phone, pager, mail].map((d) => d.position),
      [1, 2, 3],
    );
    t.match(pager, { userId: u.id, kind: 'pager', protocol: 'snpp', label: null, asteriskDevice: null });
    t.equal(await s.accounts.deviceExists(u.id, 'email', 'u@example.test'), true);
    t.equal(await s.accounts.deviceExists(w.id, 'email', 'u@example.test'), false);
    await s.accounts.updateDevice(pager.id, { label: 'belt', quietStart: '22:00', quietEnd: '07:00' });
    t.match(await s.accounts.device(pager.id), { label: 'belt', quietStart: '22:00', quietEnd: '07:00' });
    await s.accounts.updateDevice(pager.id, { label: null });
    t.match(await s.accounts.device(pager.id), { label: null, quietStart: '22:00' });
    await s.accounts.updateDevice(pager.id, {});
    const other = await s.accounts.insertDevice(w.id, dev('phone', '+15550300', 'PJSIP/desk'), NOW);
    t.same(
      (await s.accounts.phonesOnAsteriskDevice('PJSIP/desk')).map((d) => d.id),
      [phone.id, other.id],
    );
    await s.accounts.reorderDevices(u.id, [mail.id, phone.id, pager.id]);
    t.same(
      (await s.accounts.devices(u.id)).map((d) => [d.id, d.position]),
      [
        [mail.id, 1],
        [phone.id, 2],
        [pager.id, 3],
      ],
    );
    t.equal(await s.accounts.deleteDevice(w.id, phone.id), false, "not w's device");
    t.equal(await s.accounts.deleteDevice(u.id, phone.id), true);
    t.same(
      (await s.accounts.devices(u.id)).map((d) => [d.id, d.position]),
      [
        [mail.id, 1],
        [pager.id, 2],
      ],
      'the gap is closed',
    );
    t.equal(await s.accounts.device(phone.id), null);
    // Two devices added at once get two positions.
    await Promise.all([
      s.accounts.insertDevice(w.id, dev('email', 'w1@example.test'), NOW),
      s.accounts.insertDevice(w.id, dev('email', 'w2@example.test'), NOW),
    ]);
    t.same(
      (await s.accounts.devices(w.id)).map((d) => d.position),
      [1, 2, 3],
    );
  });

  t.test(`${backend.name}: accounts - roles granted, revoked, gone with the user, seen by every node`, async (t) => {
    const db = await backend.database(t);
    const a = await db.open('node-a');
    const b = await db.open('node-b');
    const [u, w] = (await users(a, 2)) as [User, User];
    t.equal(await a.roles.has(u.id, 'admin'), false, 'nobody is an admin at first');
    t.equal(await a.roles.set(u.id, 'admin', true, NOW), true, 'granted');
    t.equal(await a.roles.set(u.id, 'admin', true, NOW + 1), false, 'granting again changes nothing');
    t.equal(await a.roles.has(u.id, 'admin'), true);
    t.equal(await b.roles.has(u.id, 'admin'), true, 'another node sees the grant');
    t.equal(await b.roles.has(w.id, 'admin'), false, "one user's role is not another's");
    t.equal(await b.roles.set(w.id, 'admin', false, NOW), false, 'revoking a role not held changes nothing');
    t.same(await b.roles.holders('admin'), [u.id], 'the holders of a role, seen by another node');
    await t.rejects(a.roles.set(u.id + 1000, 'admin', true, NOW), 'no role for a user that does not exist');
    t.equal(await b.roles.set(u.id, 'admin', false, NOW + 2), true, 'revoked on another node');
    t.equal(await a.roles.has(u.id, 'admin'), false);
    await a.roles.set(w.id, 'admin', true, NOW);
    t.equal(await a.accounts.deleteUser(w.id), true);
    t.equal(await a.roles.has(w.id, 'admin'), false, 'roles go with the user');
    t.same(await a.roles.holders('admin'), [], 'nor is the user a holder any more');
  });

  t.test(`${backend.name}: presence - chosen state, links, desk-phone calls, contacts`, async (t) => {
    const db = await backend.database(t);
    const s = await db.open('node-a');
    const [a, b, c] = (await users(s, 3)) as [User, User, User];
    t.equal(await s.presence.chosen(a.id), null);
    await s.presence.setChosen(a.id, 'away', 'lunch', NOW);
    await s.presence.setChosen(a.id, 'busy', null, NOW + 1);
    t.same(await s.presence.chosen(a.id), { state: 'busy', statusText: null });

    await s.presence.insertLink('l1', a.id, 'web', 'node-a', NOW);
    await s.presence.insertLink('l2', a.id, 'phone', 'node-b', NOW);
    await s.presence.insertLink('l3', b.id, 'websocket', 'node-a', NOW);
    t.same((await s.presence.linkKinds(a.id)).sort(), ['phone', 'web']);
    t.same(
      (await s.presence.linkKindsOf([a.id, b.id, c.id, a.id + 1000])).sort(
        (x, y) => x.userId - y.userId || x.kind.localeCompare(y.kind),
      ),
      [
        { userId: a.id, kind: 'phone' },
        { userId: a.id, kind: 'web' },
        { userId: b.id, kind: 'websocket' },
      ].sort((x, y) => x.userId - y.userId || x.kind.localeCompare(y.kind)),
      'several users in one read; no row for a user with no link',
    );
    t.same(await s.presence.linkKindsOf([]), []);
    t.equal(await s.presence.hasLinksElsewhere(a.id, 'node-a'), true);
    t.equal(await s.presence.hasLinksElsewhere(b.id, 'node-a'), false);
    t.same((await s.presence.deleteLinksOfNode('node-a')).sort(), [a.id, b.id].sort());
    t.same(await s.presence.linkKinds(a.id), ['phone']);
    await s.presence.deleteLink('l2');
    t.same(await s.presence.linkKinds(a.id), []);

    t.same((await s.presence.setDeviceCalls('PJSIP/desk', 'node-a', [a.id, b.id], NOW)).sort(), [a.id, b.id].sort());
    t.same(await s.presence.setDeviceCalls('PJSIP/desk', 'node-a', [a.id, b.id], NOW), [], 'nothing changed');
    t.same(await s.presence.setDeviceCalls('PJSIP/desk', 'node-a', [b.id, c.id], NOW), [a.id, c.id]);
    await s.presence.setDeviceCalls('PJSIP/aux', 'node-b', [b.id], NOW);
    t.same(await s.presence.deviceCallsOf(b.id), ['PJSIP/aux', 'PJSIP/desk']);
    t.same((await s.presence.deleteDeviceCallsOfNode('node-a')).sort(), [b.id, c.id].sort());
    t.same(await s.presence.deviceCallsOf(b.id), ['PJSIP/aux']);

    await s.presence.upsertSubscription(a.id, b.id, 'requested', NOW);
    await s.presence.upsertSubscription(c.id, b.id, 'requested', NOW + 1);
    t.equal(await s.presence.subscription(a.id, b.id), 'requested');
    t.same(await s.presence.requestsTo(b.id), [
      { fromUserId: a.id, createdAt: NOW },
      { fromUserId: c.id, createdAt: NOW + 1 },
    ]);
    await s.presence.approveMutual(b.id, a.id, NOW + 2);
    t.equal(await s.presence.subscription(a.id, b.id), 'approved');
    t.equal(await s.presence.subscription(b.id, a.id), 'approved');
    t.same(await s.presence.subscribersOf(b.id), [a.id]);
    t.same(await s.presence.subscriptionsOf(a.id), [{ targetId: b.id, state: 'approved' }]);
    await s.presence.deleteMutual(a.id, b.id);
    t.equal(await s.presence.subscription(a.id, b.id), null);
    t.equal(await s.presence.subscription(b.id, a.id), null);
    t.equal(await s.presence.deleteSubscription(c.id, b.id), true);
    t.equal(await s.presence.deleteSubscription(c.id, b.id), false);
  });

  t.test(`${backend.name}: client message ids - a repeat finds the message stored the first time`, async (t) => {
    const s = await one(t);
    const [a, b] = (await users(s, 2)) as [User, User];
    await s.presence.insertSession('s1', a.id, [b.id], NOW);
    await s.presence.insertSession('s2', a.id, [b.id], NOW);
    const withId = (session: string, from: number, body: string, id: string, at = NOW) => ({
      ...text(session, from, body, [from === a.id ? b.id : a.id], at),
      clientMessageId: id,
    });
    s.messages.warm();
    const batch = (entries: CommitEntry[], now = NOW) =>
      s.messages.commit({ entries, delivered: [], cursors: [], now });

    // Within one batch: the second entry with the same id (same sender, same session) is not written.
    const r1 = await batch([
      withId('s1', a.id, 'hello', 'c-1'),
      text('s1', a.id, 'no id', [b.id]),
      withId('s1', a.id, 'hello', 'c-1', NOW + 5),
      withId('s1', b.id, 'from b', 'c-1'),
      withId('s2', a.id, 'other session', 'c-1'),
    ]);
    t.match(r1, [{ ok: true }, { ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    const ids = r1.map((r) => (r as { id: number }).id);
    t.notOk((r1[0] as { existing?: unknown }).existing, 'the first is written');
    t.equal(ids[2], ids[0], 'the repeat in the same batch names the first');
    t.match((r1[2] as { existing?: unknown }).existing, { id: String(ids[0]), text: 'hello', createdAt: NOW });
    t.equal(new Set([ids[0], ids[1], ids[3], ids[4]]).size, 4, 'another sender or session: another message');
    t.equal((await s.presence.history('s1', 0, 10)).length, 3, 'three messages in s1');

    // In a later batch: found, nothing written, no second delivery row.
    const r2 = await batch([withId('s1', a.id, 'hello', 'c-1', NOW + 9), withId('s1', a.id, 'next', 'c-2', NOW + 9)]);
    t.same((r2[0] as { existing?: unknown }).existing, {
      id: String(ids[0]),
      sessionId: 's1',
      fromUserId: a.id,
      kind: 'text',
      text: 'hello',
      audioId: null,
      audioUrl: null,
      createdAt: NOW,
    });
    t.equal((r2[0] as { id: number }).id, ids[0]);
    t.notOk((r2[1] as { existing?: unknown }).existing);
    t.same(
      (await s.presence.history('s1', 0, 10)).map((m) => m.text),
      ['hello', 'no id', 'from b', 'next'],
    );
    t.same(
      (await s.presence.messagesFor(b.id, ['pending'], { sessionId: 's1' })).map((m) => m.text),
      ['hello', 'no id', 'next'],
      'one delivery row per message, whatever the repeats',
    );
    const r3 = await batch([withId('s1', b.id, 'from b', 'c-1'), withId('s2', b.id, 'b in s2', 'c-1')]);
    t.equal((r3[0] as { id: number }).id, ids[3], "b's id in s1 names b's message");
    t.notOk((r3[1] as { existing?: unknown }).existing, 'the same id in another session is another message');
  });

  t.test(`${backend.name}: presence - sessions, the message cache, deliveries`, async (t) => {
    const s = await one(t);
    const [a, b, c] = (await users(s, 3)) as [User, User, User];
    await s.presence.insertSession('s1', a.id, [c.id, b.id], NOW);
    t.same(await s.presence.session('s1'), {
      id: 's1',
      ownerId: a.id,
      createdAt: NOW,
      members: [
        { userId: a.id, state: 'joined' },
        { userId: c.id, state: 'invited' },
        { userId: b.id, state: 'invited' },
      ],
    });
    t.equal(await s.presence.session('nope'), null);
    await t.rejects(s.presence.insertSession('s1', b.id, [], NOW), 'a session id is taken once');
    await s.presence.insertSession('s2', b.id, [a.id], NOW + 10);
    t.same(await s.presence.sessionIdsOf(a.id, ['joined', 'invited']), ['s2', 's1'], 'newest first');
    t.same(await s.presence.sessionIdsOf(a.id, ['joined']), ['s1']);
    t.same((await s.presence.recipients('s1', a.id)).sort(), [b.id, c.id].sort(), 'in no promised order');

    s.messages.warm();
    const r1 = await s.messages.commit({
      entries: [text('s1', a.id, 'one', [b.id, c.id]), text('s1', a.id, 'two', [b.id, c.id], NOW + 1)],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.equal(r1.length, 2);
    t.ok(r1.every((r) => r.ok));
    const [id1, id2] = r1.map((r) => (r as { id: number }).id) as [number, number];
    t.ok(id2 > id1, 'ids rise in commit order');
    t.same(await s.presence.message(id1), {
      id: String(id1),
      sessionId: 's1',
      fromUserId: a.id,
      kind: 'text',
      text: 'one',
      audioId: null,
      audioUrl: null,
      createdAt: NOW,
    });
    t.equal(await s.presence.maxMessageId(), id2);

    // A batch with one bad entry (no such session): the others are stored all the same.
    const r2 = await s.messages.commit({
      entries: [
        text('s1', b.id, 'three', [a.id, c.id], NOW + 2),
        text('no-such-session', b.id, 'lost', [a.id], NOW + 2),
        { ...text('s1', c.id, '', [a.id, b.id], NOW + 3), kind: 'voice', audioId: 'ab'.repeat(16), text: null },
      ],
      delivered: [{ userId: b.id, messageId: id1 }],
      cursors: [['obj-missing', id1]],
      now: NOW + 2,
    });
    t.match(r2, [{ ok: true }, { ok: false, reason: String }, { ok: true }]);
    const id3 = (r2[0] as { id: number }).id;
    const id4 = (r2[2] as { id: number }).id;
    t.ok(id4 > id3 && id3 > id2);
    t.same(
      (await s.presence.history('s1', 0, 10)).map((m) => m.text),
      ['one', 'two', 'three', null],
    );
    t.same(
      (await s.presence.history('s1', id1, 2)).map((m) => m.id),
      [String(id2), String(id3)],
    );
    t.same(
      (await s.presence.history('s1', 0, 10, id2)).map((m) => m.id),
      [String(id1), String(id2)],
    );
    t.same(
      (await s.presence.recent('s1', 2)).map((m) => m.id),
      [String(id3), String(id4)],
      'the last two, oldest first',
    );
    t.same(
      (await s.presence.recent('s1', 2, id2)).map((m) => m.id),
      [String(id1), String(id2)],
    );
    t.match(await s.presence.message(id4), { kind: 'voice', audioId: 'ab'.repeat(16), text: null });

    t.same(
      await s.presence.deliveryStates(id1),
      [
        { recipientId: b.id, state: 'delivered' },
        { recipientId: c.id, state: 'pending' },
      ].sort((x, y) => x.recipientId - y.recipientId),
      'the ride-along delivery was recorded',
    );
    t.same(
      (await s.presence.messagesFor(b.id, ['pending'])).map((m) => m.id),
      [String(id2), String(id4)],
    );
    t.same(
      (await s.presence.messagesFor(c.id, ['pending'], { afterId: id1, limit: 1 })).map((m) => m.id),
      [String(id2)],
    );
    t.same(await s.presence.messagesFor(c.id, ['pending'], { sessionId: 's2' }), []);
    t.same(
      (await s.presence.pendingDeliveries(NOW + 1, 10)).map((p) => [p.recipientId, p.message.id]),
      [
        [b.id, String(id2)],
        [c.id, String(id2)],
        [a.id, String(id3)],
        [c.id, String(id3)],
        [a.id, String(id4)],
        [b.id, String(id4)],
      ].sort((x, y) => Number(x[1]) - Number(y[1]) || Number(x[0]) - Number(y[0])),
    );
    // Forward only: read cannot go back to delivered; ids in the order asked.
    t.same(await s.presence.advanceDeliveries(c.id, [id2, id1], 'notified', NOW), [id2, id1]);
    t.same(await s.presence.advanceDeliveries(c.id, [id1, id2], 'read', NOW), [id1, id2]);
    t.same(await s.presence.advanceDeliveries(c.id, [id1, id2, id3], 'delivered', NOW), [id3]);
    t.same(await s.presence.advanceDeliveries(c.id, [id1], 'pending', NOW), []);
    t.same(await s.presence.advanceDeliveries(c.id, [], 'read', NOW), []);
    t.same(
      (await s.presence.messagesFor(c.id, ['read', 'delivered'])).map((m) => m.id),
      [String(id1), String(id2), String(id3)],
    );

    // Leaving fixes what a member may read; joining again lifts it.
    await s.presence.setMember('s1', b.id, 'left', null, NOW + 5);
    t.equal(await s.presence.readUntil('s1', b.id), id4);
    t.equal(await s.presence.memberState('s1', b.id), 'left');
    t.same(await s.presence.recipients('s1', a.id), [c.id]);
    await s.presence.setMember('s1', b.id, 'joined', null, NOW + 6);
    t.equal(await s.presence.readUntil('s1', b.id), null);
    await s.presence.setMember('s2', c.id, 'invited', b.id, NOW + 7);
    t.same(
      (await s.presence.membership('s2'))?.members.sort((x, y) => x.userId - y.userId),
      [
        { userId: b.id, state: 'joined' },
        { userId: a.id, state: 'invited' },
        { userId: c.id, state: 'invited' },
      ].sort((x, y) => x.userId - y.userId),
      'in no promised order',
    );
    await s.presence.setMember('s2', c.id, 'declined', null, NOW + 8);
    t.equal(await s.presence.readUntil('s2', c.id), 0, 'declined before any message: nothing to read');
    t.equal(await s.presence.memberState('s2', a.id + 1000), null);
  });

  t.test(`${backend.name}: membership versions - a post checked against an older one is not stored`, async (t) => {
    const db = await backend.database(t);
    const a = await db.open('node-a');
    const b = await db.open('node-b');
    const [u1, u2, u3] = (await users(a, 3)) as [User, User, User];
    t.equal(await a.presence.membership('nope'), null, 'no such session');
    await a.presence.insertSession('s1', u1.id, [u2.id], NOW);
    await a.presence.insertSession('s2', u1.id, [u2.id], NOW);
    const v1 = (await a.presence.membership('s1'))?.version as number;
    t.same(
      (await b.presence.membership('s1'))?.members.sort((x, y) => x.userId - y.userId),
      [
        { userId: u1.id, state: 'joined' },
        { userId: u2.id, state: 'invited' },
      ].sort((x, y) => x.userId - y.userId),
    );
    t.equal((await b.presence.membership('s1'))?.version, v1, 'every node reads the same version');
    const checked = (session: string, body: string, recipients: number[], version: number): CommitEntry => ({
      ...text(session, u1.id, body, recipients),
      membershipVersion: version,
    });
    const s2v = (await a.presence.membership('s2'))?.version as number;
    a.messages.warm();
    const r1 = await a.messages.commit({
      entries: [checked('s1', 'current', [u2.id], v1)],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.match(r1, [{ ok: true }], 'checked against the current version: stored');

    // Another node changes a member (u2 joins, u3 is invited): node a's version is old.
    await b.presence.setMember('s1', u2.id, 'joined', null, NOW + 1);
    const v2 = (await a.presence.membership('s1'))?.version as number;
    t.not(v2, v1, 'a state change moves the version');
    await b.presence.setMember('s1', u3.id, 'invited', u1.id, NOW + 2);
    const v3 = (await a.presence.membership('s1'))?.version as number;
    t.not(v3, v2, 'a new member moves the version');
    const r2 = await a.messages.commit({
      entries: [
        checked('s1', 'stale', [u2.id], v1),
        checked('s2', 'other session', [u2.id], s2v),
        { ...checked('s1', 'stale with an id', [u2.id], v2), clientMessageId: 'k-1' },
        checked('s1', 'fresh', [u2.id, u3.id], v3),
      ],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.match(r2, [{ ok: false, isStale: true }, { ok: true }, { ok: false, isStale: true }, { ok: true }]);
    t.same(
      (await b.presence.history('s1', 0, 10)).map((m) => m.text),
      ['current', 'fresh'],
      'nothing of a stale entry is stored; the others of its batch are',
    );
    t.same(
      (await a.presence.messagesFor(u3.id, ['pending'])).map((m) => m.text),
      ['fresh'],
      'the new member has the message checked against the new version',
    );
    const r3 = await a.messages.commit({
      entries: [{ ...checked('s1', 'stale with an id', [u2.id, u3.id], v3), clientMessageId: 'k-1' }],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.match(r3, [{ ok: true }], 'the stale id was not taken: checked again, it is stored');
    t.notOk((r3[0] as { existing?: unknown }).existing);

    // A removed account leaves its sessions: that moves the version too; unchecked entries are not compared.
    await a.accounts.deleteUser(u3.id);
    t.not((await b.presence.membership('s1'))?.version, v3, 'a member removed with its account moves the version');
    const r4 = await a.messages.commit({
      entries: [checked('s1', 'old', [u2.id], v3), text('s1', u1.id, 'unchecked', [u2.id])],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    t.match(r4, [{ ok: false, isStale: true }, { ok: true }]);
  });

  t.test(`${backend.name}: presence - session objects, their owner node, leases, shared secrets`, async (t) => {
    const db = await backend.database(t);
    const a = await db.open('node-a');
    const b = await db.open('node-b');
    const [u] = (await users(a, 1)) as [User];
    const obj = sessionObject('o1', u.id);
    await a.presence.insertObject(obj, 'hash-1');
    await a.presence.insertObject({ ...obj, id: 'o2', createdAt: NOW + 1, lastSeenAt: NOW + 100 }, 'hash-2');
    t.same(await b.presence.objectByTokenHash('hash-1'), obj);
    t.equal(await b.presence.objectByTokenHash('nope'), null);
    await a.presence.setCursor('o1', 7);
    await a.presence.setCursor('o1', 3);
    await a.presence.touchObject('o1', NOW + 50);
    t.match(await a.presence.objectById('o1'), { cursor: '7', lastSeenAt: NOW + 50 }, 'the cursor never goes back');
    // Two nodes take a session over from node-a at once: one wins.
    const wins = await Promise.all([
      a.presence.takeOver('o1', 'node-a', 'node-c'),
      b.presence.takeOver('o1', 'node-a', 'node-b'),
    ]);
    t.equal(wins.filter(Boolean).length, 1);
    t.equal((await a.presence.objectById('o1'))?.nodeId, wins[0] ? 'node-c' : 'node-b');
    t.same(
      [...(await b.presence.objectNodes(['o1', 'o2', 'gone']))].sort(),
      [
        ['o1', wins[0] ? 'node-c' : 'node-b'],
        ['o2', 'node-a'],
      ],
      'which objects still exist, and where',
    );
    t.same([...(await a.presence.objectNodes([]))], []);
    t.same(
      (await a.presence.objectsOf(u.id)).map((o) => o.id),
      ['o1', 'o2'],
    );
    t.equal(await a.presence.deleteIdleObjects(NOW + 60), 1);
    t.equal(await a.presence.deleteObject('o2'), true);
    t.equal(await a.presence.deleteObject('o2'), false);

    const [s1, s2] = await Promise.all([
      a.presence.sharedSecret('csrf', 'from-a'),
      b.presence.sharedSecret('csrf', 'from-b'),
    ]);
    t.equal(s1, s2, 'every node gets the same secret');
    t.equal(await a.presence.sharedSecret('csrf', 'later'), s1);

    await a.presence.renewLease('node-a', 'http://127.0.0.1:1', NOW + 30_000, NOW);
    await b.presence.renewLease('node-b', 'http://127.0.0.1:2', NOW + 10_000, NOW);
    t.same(await a.presence.lease('node-b'), { publicUrl: 'http://127.0.0.1:2', leaseUntil: NOW + 10_000 });
    t.equal(await a.presence.lease('node-z'), null);
    t.same(await a.presence.expiredNodes(NOW + 20_000, 'node-a'), ['node-b']);
    t.same(await b.presence.expiredNodes(NOW + 20_000, 'node-b'), []);
    await a.presence.releaseLease('node-a');
    t.same(await b.presence.expiredNodes(NOW, 'node-b'), ['node-a']);
  });

  t.test(
    `${backend.name}: the credentials version rises with every end or move of a token, on every node`,
    async (t) => {
      const db = await backend.database(t);
      const a = await db.open('node-a');
      const b = await db.open('node-b');
      const [u, w] = (await users(a, 2)) as [User, User];
      const obj = (id: string, userId = u.id) => sessionObject(id, userId);
      const seen = async () => {
        const [va, vb] = [await a.accounts.credentialsVersion(), await b.accounts.credentialsVersion()];
        t.equal(va, vb, 'both nodes read the same version');
        return va;
      };
      let v = await seen();
      const rises = async (what: string, change: () => Promise<unknown>) => {
        await change();
        const now = await seen();
        t.ok(now > v, `${what} raises it`);
        v = now;
      };
      const stays = async (what: string, change: () => Promise<unknown>) => {
        await change();
        t.equal(await seen(), v, `${what} leaves it`);
      };
      await stays('a new session object', () => a.presence.insertObject(obj('o1'), 'hash-1'));
      await a.presence.insertObject(obj('o2'), 'hash-2');
      await stays('a touch', () => a.presence.touchObject('o1', NOW + 10));
      await stays('a cursor', () => a.presence.setCursor('o1', 5));
      await stays('a take-over that lost', () => b.presence.takeOver('o1', 'node-z', 'node-b'));
      await rises('a take-over', () => b.presence.takeOver('o1', 'node-a', 'node-b'));
      await stays('ending nothing', () => b.presence.deleteObject('nope'));
      await rises('a log-out on another node', () => b.presence.deleteObject('o1'));
      await stays('an idle sweep that finds none', () => a.presence.deleteIdleObjects(NOW - 1));
      await rises('an idle sweep', () => a.presence.deleteIdleObjects(NOW + 1));
      await a.presence.insertObject(obj('o3', w.id), 'hash-3');
      await rises("a user's new language", () => a.accounts.setLanguage(u.id, 'es'));
      await rises("a user's new name", () => a.accounts.updateUser(u.id, { displayName: 'Someone Else' }));
      await rises('a user deleted', () => b.accounts.deleteUser(w.id));
      t.equal(await a.presence.objectByTokenHash('hash-3'), null, "the deleted user's session object went with it");
    },
  );

  t.test(`${backend.name}: notify - alerts, ladders, steps`, async (t) => {
    const s = await one(t);
    const [a, r] = (await users(s, 2)) as [User, User];
    const alert = (id: string, at = NOW) => ({
      id,
      recipientId: r.id,
      isTest: false,
      createdAt: at,
      collectUntil: at + 1000,
    });
    t.same(await s.notify.foldMessage(alert('al1'), unreachable('m1', 's1', a.id), NOW), {
      alertId: 'al1',
      folded: false,
    });
    t.same(await s.notify.foldMessage(alert('al2'), unreachable('m2', 's1', a.id, NOW + 1), NOW + 1), {
      alertId: 'al1',
      folded: true,
    });
    await s.notify.foldMessage(alert('al3'), unreachable('m2', 's1', a.id, NOW + 1), NOW + 2);
    t.same(
      (await s.notify.messages('al1')).map((m) => m.id),
      ['m1', 'm2'],
      'a message folds in once',
    );
    t.match((await s.notify.messages('al1'))[0], {
      alertId: 'al1',
      fromName: 'Alice Jones',
      audioId: undefined,
      at: NOW,
      addedAt: NOW,
    });
    t.equal(
      await s.notify.openAlertWith({ ...alert('test1'), isTest: true }, unreachable('t', 's1', a.id), NOW),
      false,
    );
    t.match(await s.notify.openAlertOf(r.id), { id: 'al1', state: 'collecting', isTest: false, endedAt: null });
    t.equal(await s.notify.hasAlerted(r.id, 'm2'), true);
    t.equal(await s.notify.hasAlerted(a.id, 'm2'), false);
    t.equal(await s.notify.nextDueAt(), NOW + 1000);
    t.same(await s.notify.collectedAlerts(NOW + 999, 10), []);
    t.same(
      (await s.notify.collectedAlerts(NOW + 1000, 10)).map((x) => x.id),
      ['al1'],
    );

    t.equal(await s.notify.startAlert('al1', planned(3), NOW + 1000, 'no devices'), true);
    t.equal(await s.notify.startAlert('al1', planned(3), NOW + 1000, 'no devices'), false, 'started once');
    const steps = await s.notify.steps('al1');
    t.same(
      steps.map((x) => [x.position, x.state, x.dueAt, x.attempts]),
      [
        [1, 'scheduled', NOW + 1000, 0],
        [2, 'scheduled', null, 0],
        [3, 'scheduled', null, 0],
      ],
    );
    t.equal(await s.notify.nextDueAt(), NOW + 1000);
    t.same(await s.notify.claimDueSteps('node-a', NOW + 999, 10), [], 'not due yet');
    t.same(await s.notify.claimDueSteps('node-a', NOW + 1000, 0), []);
    const [claimed] = await s.notify.claimDueSteps('node-a', NOW + 1000, 10);
    t.match(claimed, { position: 1, state: 'in-progress', attempts: 1, nodeId: 'node-a', startedAt: NOW + 1000 });
    t.same(await s.notify.claimDueSteps('node-a', NOW + 1000, 10), [], 'claimed once');
    t.same(
      (await s.notify.inProgressOf('node-a')).map((x) => x.id),
      [claimed?.id],
    );
    // node-a dies mid-step: once its lease has lapsed, one other node takes the step over (to close it).
    await s.presence.renewLease('node-a', 'http://a.example', NOW + 1100, NOW + 1000);
    t.same(await s.notify.adoptStepsOfLapsedNodes('node-b', NOW + 1050), [], 'not while node-a’s lease runs');
    t.same(
      (await s.notify.adoptStepsOfLapsedNodes('node-b', NOW + 1200)).map((x) => [x.id, x.state, x.nodeId]),
      [[claimed?.id, 'in-progress', 'node-b']],
      'taken over after the lease',
    );
    t.same(await s.notify.adoptStepsOfLapsedNodes('node-c', NOW + 1200), [], 'by one node only');
    t.same(await s.notify.adoptStepsOfLapsedNodes('node-b', NOW + 1200), [], 'its own steps are not adopted');
    const st = claimed as NonNullable<typeof claimed>;
    const end = { state: 'failed' as const, outcome: 'smtp 450', errorCode: 'NOTIFY_X', nextDueAt: NOW + 5000 };
    t.equal(await s.notify.recordStepEnd(st, { ...end, retryAt: NOW + 2000 }, NOW + 1500), 'retry');
    t.match(await s.notify.step(st.id), { state: 'scheduled', dueAt: NOW + 2000, outcome: 'smtp 450' });
    const [again] = await s.notify.claimDueSteps('node-a', NOW + 2000, 10);
    t.equal(again?.attempts, 2);
    t.equal(await s.notify.recordStepEnd(st, end, NOW + 2500), 'next');
    t.match(await s.notify.step(st.id), { state: 'failed', endedAt: NOW + 2500, errorCode: 'NOTIFY_X' });
    t.equal((await s.notify.steps('al1'))[1]?.dueAt, NOW + 5000, 'the next step is due');
    const [second] = await s.notify.claimDueSteps('node-a', NOW + 5000, 10);
    t.equal(
      await s.notify.recordStepEnd(
        second as NonNullable<typeof second>,
        { ...end, state: 'delivered', outcome: 'sent', errorCode: null },
        NOW + 5001,
      ),
      'next',
    );
    const [third] = await s.notify.claimDueSteps('node-a', NOW + 9000, 10);
    t.equal(await s.notify.recordStepEnd(third as NonNullable<typeof third>, end, NOW + 9001), 'finished');
    t.match(await s.notify.alert('al1'), { state: 'done', reason: 'ladder finished', endedAt: NOW + 9001 });
    t.equal(await s.notify.nextDueAt(), null);

    // A ladder where nothing got through ends failed; an answered call ends it at once.
    await s.notify.foldMessage(alert('al4', NOW + 10_000), unreachable('m4', 's1', a.id), NOW + 10_000);
    await s.notify.startAlert('al4', planned(1), NOW + 11_000, 'x');
    const [only] = await s.notify.claimDueSteps('node-a', NOW + 11_000, 5);
    t.equal(await s.notify.recordStepEnd(only as NonNullable<typeof only>, end, NOW + 11_001), 'finished');
    t.match(await s.notify.alert('al4'), { state: 'failed' });
    t.same(
      (await s.notify.listAlerts({ state: 'failed' })).map((x) => x.id),
      ['al4'],
    );
    t.same(
      (await s.notify.listAlerts({ state: 'done' })).map((x) => x.id),
      ['al1'],
    );
    t.same(
      (await s.notify.listAlerts({ recipientId: r.id, limit: 1 })).map((x) => x.id),
      ['al4'],
      'newest first',
    );
    t.same(
      (await s.notify.alertsOfMessage('m2')).map((x) => x.id),
      ['al1'],
    );

    t.equal(await s.notify.retryAlert('al4', NOW + 12_000), 'retried');
    t.match(await s.notify.alert('al4'), { state: 'running', reason: null, endedAt: null });
    t.match(await s.notify.steps('al4'), [{ state: 'scheduled', dueAt: NOW + 12_000, outcome: null }]);
    t.equal(await s.notify.retryAlert('al4', NOW + 12_000), 'nothing', 'it is open');
    t.equal(await s.notify.retryAlert('al1', NOW + 12_000), 'busy', 'the recipient has another open alert');
    t.equal(await s.notify.retryAlert('none', NOW), 'nothing');
    const [re] = await s.notify.claimDueSteps('node-a', NOW + 12_000, 5);
    t.equal(
      await s.notify.recordStepEnd(
        re as NonNullable<typeof re>,
        { ...end, state: 'delivered', stop: 'accepted' },
        NOW + 12_001,
      ),
      'accepted',
    );
    t.match(await s.notify.alert('al4'), { state: 'done', reason: 'call accepted' });
    t.equal(await s.notify.recordStepEnd(re as NonNullable<typeof re>, end, NOW + 12_002), 'closed');

    // Cancel: the alert ends, its scheduled steps with it.
    await s.notify.foldMessage(alert('al5', NOW + 20_000), unreachable('m5', 's1', a.id), NOW + 20_000);
    await s.notify.startAlert('al5', planned(2), NOW + 21_000, 'x');
    t.equal(await s.notify.cancelAlert('al5', 'recipient online', NOW + 21_500), true);
    t.equal(await s.notify.cancelAlert('al5', 'again', NOW + 21_600), false);
    t.same(
      (await s.notify.steps('al5')).map((x) => [x.state, x.outcome]),
      [
        ['cancelled', 'recipient online'],
        ['cancelled', 'recipient online'],
      ],
    );
    t.equal(await s.notify.openAlertOf(r.id), null);
    // An alert with no steps ends done at once.
    t.equal(await s.notify.openAlertWith({ ...alert('al6'), isTest: true }, unreachable('t6', 's1', a.id), NOW), true);
    t.equal(await s.notify.startAlert('al6', [], NOW + 30_000, 'no devices'), true);
    t.match(await s.notify.alert('al6'), { state: 'done', reason: 'no devices', isTest: true });

    t.equal(await s.notify.ladderOf(r.id), null);
    await s.notify.setLadder(r.id, [{ deviceId: 2, waitMs: 30_000 }] as never, NOW);
    t.same(await s.notify.ladderOf(r.id), [{ deviceId: 2, waitMs: 30_000 }]);
    t.equal(await s.notify.clearLadder(r.id), true);
    t.equal(await s.notify.clearLadder(r.id), false);
  });

  t.test(`${backend.name}: notify - group commits: each item as if alone; a bad one sinks no other`, async (t) => {
    const s = await one(t);
    const [a, r1, r2] = (await users(s, 3)) as [User, User, User];
    const open = (id: string, recipientId: number) => ({
      alert: { id, recipientId, isTest: false, createdAt: NOW, collectUntil: NOW },
      now: NOW,
    });
    const folds = await s.notify.foldMessages([
      { ...open('al1', r1.id), message: unreachable('m1', 's1', a.id) },
      { ...open('al-x', r1.id), message: unreachable('m2', 's1', a.id) },
      { ...open('al-bad', 999_999), message: unreachable('m3', 's1', a.id) },
      { ...open('al2', r2.id), message: unreachable('m4', 's1', a.id) },
    ]);
    t.same(folds.slice(0, 2), [
      { status: 'fulfilled', value: { alertId: 'al1', folded: false } },
      { status: 'fulfilled', value: { alertId: 'al1', folded: true } },
    ]);
    t.equal(folds[2]?.status, 'rejected', 'an alert for nobody is refused');
    t.same(folds[3], { status: 'fulfilled', value: { alertId: 'al2', folded: false } }, 'and the others stand');
    t.same(
      (await s.notify.messages('al1')).map((m) => m.id),
      ['m1', 'm2'],
    );
    const started = await s.notify.startAlerts(
      [
        { id: 'al1', steps: planned(2), emptyReason: 'x' },
        { id: 'al2', steps: [], emptyReason: 'no devices' },
        { id: 'al1', steps: planned(2), emptyReason: 'x' },
      ],
      NOW,
    );
    t.same(
      started.map((x) => (x.status === 'fulfilled' ? x.value : x.status)),
      [true, true, false],
      'each started once',
    );
    t.match(await s.notify.alert('al2'), { state: 'done', reason: 'no devices' });
    const [first] = await s.notify.claimDueSteps('node-a', NOW, 10);
    const step = first as NonNullable<typeof first>;
    const end = { state: 'delivered' as const, outcome: 'ok', errorCode: null, nextDueAt: NOW + 5 };
    const after = await s.notify.recordStepEnds([{ step, end, now: NOW + 1 }]);
    t.same(after, [{ status: 'fulfilled', value: 'next' }]);
    t.match(await s.notify.steps('al1'), [
      { position: 1, state: 'delivered', endedAt: NOW + 1 },
      { position: 2, state: 'scheduled', dueAt: NOW + 5 },
    ]);
  });

  t.test(`${backend.name}: notify - nodes share the ladders: each step claimed exactly once`, async (t) => {
    const db = await backend.database(t);
    const nodes = [await db.open('node-a'), await db.open('node-b'), await db.open('node-c')];
    const [s] = nodes as [Store];
    const recipients = await users(s, 10);
    // Ten recipients, one open alert each even when two nodes fold at once.
    const folds = await Promise.all(
      recipients.flatMap((r, i) =>
        [0, 1].map((k) =>
          (nodes[k] as Store).notify.foldMessage(
            { id: `al-${i}-${k}`, recipientId: r.id, isTest: false, createdAt: NOW, collectUntil: NOW },
            unreachable(`m-${i}-${k}`, 's', r.id),
            NOW,
          ),
        ),
      ),
    );
    const alertIds = [...new Set(folds.map((f) => f.alertId))];
    t.equal(alertIds.length, 10, 'one alert per recipient');
    t.equal(folds.filter((f) => !f.folded).length, 10);
    for (const id of alertIds) await s.notify.startAlert(id, planned(1), NOW, 'x');
    // Plus steps due one by one: every alert's first step is due now.
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (nodes[i % 3] as Store).notify.claimDueSteps(`node-${i % 3}`, NOW, 2)),
    );
    const ids = claims.flat().map((x) => x.id);
    t.equal(ids.length, 10, 'every due step claimed');
    t.equal(new Set(ids).size, 10, 'none twice');
    t.ok(
      claims.flat().every((x) => x.attempts === 1 && x.state === 'in-progress'),
      'each claimed with one attempt',
    );
  });

  t.test(`${backend.name}: notify - SMS reply codes: live, used once, stale with their alert`, async (t) => {
    const db = await backend.database(t);
    const s = await db.open('node-a');
    const other = await db.open('node-b');
    const [a, r] = (await users(s, 2)) as [User, User];
    const open = (id: string) =>
      s.notify.foldMessage(
        { id, recipientId: r.id, isTest: false, createdAt: NOW, collectUntil: NOW + 1000 },
        unreachable(`m-${id}`, 's1', a.id),
        NOW,
      );
    await open('al1');
    const page = (over: Partial<NewSmsReplyCode> = {}): NewSmsReplyCode => ({
      code: '4821',
      phone: '+15550104444',
      alertId: 'al1',
      userId: r.id,
      sessionId: 's1',
      senderName: 'Alice',
      createdAt: NOW,
      expiresAt: NOW + 3_600_000,
      ...over,
    });
    t.equal(await s.smsReplies.anyLive(NOW), false, 'none yet');
    t.equal(await s.smsReplies.isLive('4821', NOW), false);
    const c1 = await s.smsReplies.insert(page());
    t.same(c1, { ...page(), id: c1.id, usedAt: null, alertCancelled: false });
    t.equal(typeof c1.id, 'number', 'ids are numbers on every backend');
    t.equal(await s.smsReplies.isLive('4821', NOW), true);
    t.equal(await other.smsReplies.isLive('4821', NOW + 3_599_999), true, 'seen from another node');
    t.equal(await s.smsReplies.isLive('4821', NOW + 3_600_000), false, 'not at its expiry');
    t.equal(await s.smsReplies.anyLive(NOW), true);
    t.same(await s.smsReplies.liveFor('al1', '+15550104444', NOW), c1);
    t.equal(await s.smsReplies.liveFor('al1', '+15550105555', NOW), null, 'another number');
    t.equal(await s.smsReplies.liveFor('al1', '+15550104444', NOW + 3_600_000), null, 'expired');
    const c2 = await s.smsReplies.insert(page({ phone: '+15550105555', createdAt: NOW + 1 }));
    t.ok(c2.id > c1.id, 'ids rise');
    t.same(
      (await s.smsReplies.byCode('4821')).map((c) => c.id),
      [c2.id, c1.id],
      'every row of a code, newest first',
    );
    t.same(await s.smsReplies.byCode('0000'), []);

    // Two replies racing on two nodes: one wins.
    const both = await Promise.all([s.smsReplies.markUsed(c1.id, NOW + 5), other.smsReplies.markUsed(c1.id, NOW + 6)]);
    t.same([...both].sort(), [false, true], 'a code is used once');
    t.equal(await s.smsReplies.markUsed(c1.id, NOW + 7), false);
    const used = (await s.smsReplies.byCode('4821')).find((c) => c.id === c1.id);
    t.ok(used?.usedAt === NOW + 5 || used?.usedAt === NOW + 6, 'when it was used');
    t.equal(await s.smsReplies.liveFor('al1', '+15550104444', NOW), null, 'a used code is not live');
    t.equal(await s.smsReplies.isLive('4821', NOW), true, "the other number's code still is");

    // A cancelled alert makes its codes stale.
    t.equal(await s.notify.cancelAlert('al1', 'recipient active', NOW + 10), true);
    t.equal(await s.smsReplies.isLive('4821', NOW + 10), false);
    t.equal(await s.smsReplies.anyLive(NOW + 10), false);
    t.match(await s.smsReplies.byCode('4821'), [{ id: c2.id, alertCancelled: true, usedAt: null }, { id: c1.id }]);

    // Purge forgets codes that expired before the time given; the alert's deletion takes its codes too.
    await open('al2');
    const c3 = await s.smsReplies.insert(page({ code: '1111', alertId: 'al2', expiresAt: NOW + 100 }));
    t.equal(await s.smsReplies.purge(NOW + 100), 0, 'not before its expiry');
    t.equal(await s.smsReplies.purge(NOW + 3_600_001), 3);
    t.same(await s.smsReplies.byCode('4821'), []);
    t.same(await s.smsReplies.byCode('1111'), []);
    t.notOk(c3.usedAt);
    const c4 = await s.smsReplies.insert(page({ code: '2222', alertId: 'al2' }));
    t.same(
      (await s.smsReplies.byCode('2222')).map((c) => c.id),
      [c4.id],
    );
    t.equal(await s.accounts.deleteUser(r.id), true);
    t.same(await s.smsReplies.byCode('2222'), [], 'codes go with the user and the alert');
  });

  t.test(`${backend.name}: reply links, audio index, IVR resume`, async (t) => {
    const s = await one(t);
    const [u] = (await users(s, 1)) as [User];
    t.equal(await s.replyLinks.claim('n1', NOW, NOW + 1000), true);
    t.equal(await s.replyLinks.claim('n1', NOW + 1, NOW + 1000), false, 'a link logs in once');
    const both = await Promise.all([s.replyLinks.claim('n2', NOW, NOW + 10), s.replyLinks.claim('n2', NOW, NOW + 10)]);
    t.same(both.sort(), [false, true]);
    t.equal(await s.replyLinks.claim('n1', NOW + 1000, NOW + 2000), true, 'forgotten once its link expired');

    const id = 'cd'.repeat(16);
    const audio = {
      id,
      kind: 'recording' as const,
      engine: null,
      voice: null,
      ratePercent: null,
      text: null,
      spokenText: null,
      promptId: null,
      durationMs: 1500,
      isSilent: false,
      userId: u.id,
      sessionId: null,
      messageId: null,
      now: NOW,
    };
    const wavBytes = Buffer.from('RIFF and the rest of a recording\0\xff');
    await s.audio.insertAudio(audio, [
      { format: 'wav', bytes: 1000, originalExt: null, data: wavBytes },
      { format: 'original', bytes: 500, originalExt: 'gsm' },
    ]);
    t.same(await s.audio.fileData(id, 'wav'), wavBytes, "a recording's bytes are kept in the store");
    t.equal(await s.audio.fileData(id, 'original'), null, 'a file given without its bytes has none there');
    t.equal(await s.audio.fileData('00'.repeat(16), 'wav'), null);
    await s.audio.putFile(id, { format: 'mp3', bytes: 200, originalExt: null });
    await s.audio.putFile(id, { format: 'mp3', bytes: 250, originalExt: null });
    await s.audio.putFile(id, { format: 'wav', bytes: 1000, originalExt: null });
    t.same(await s.audio.fileData(id, 'wav'), wavBytes, 'recording a file again without bytes keeps them');
    const speech = {
      ...audio,
      id: 'ef'.repeat(16),
      kind: 'speech' as const,
      text: 'hello',
      isSilent: true,
      userId: null,
    };
    await t.rejects(
      s.audio.insertAudio(speech, [{ format: 'flac' as never, bytes: 1, originalExt: null }]),
      'a bad file fails the insert',
    );
    t.equal(await s.audio.describe(speech.id), null, 'all or nothing: no audio row without its files');
    await s.audio.insertAudio(speech, [{ format: 'wav', bytes: 3000, originalExt: null }]);
    // Another node rendered the same words (the same content key) meanwhile: its row stays as it was.
    await s.audio.insertAudio({ ...speech, now: NOW + 9 }, [{ format: 'wav', bytes: 3000, originalExt: null }]);
    t.same(
      (await s.audio.loadIndex()).sort((x, y) => x.id.localeCompare(y.id)),
      [
        { id, kind: 'recording', text: null, durationMs: 1500, lastUsedAt: NOW, bytes: 1750 },
        { id: speech.id, kind: 'speech', text: 'hello', durationMs: 1500, lastUsedAt: NOW, bytes: 3000 },
      ],
    );
    await s.audio.touch(id, NOW + 5);
    t.equal((await s.audio.loadIndex()).find((e) => e.id === id)?.lastUsedAt, NOW + 5);
    t.equal(await s.audio.linkRecording(id, { messageId: '42' }), true);
    t.equal(await s.audio.linkRecording(id, { sessionId: 's9' }), true);
    t.equal(await s.audio.linkRecording(speech.id, { messageId: '1' }), false, 'only recordings');
    t.same(await s.audio.describe(id), {
      id,
      kind: 'recording',
      text: null,
      durationMs: 1500,
      userId: u.id,
      sessionId: 's9',
      messageId: '42',
      isSilent: false,
    });
    t.equal((await s.audio.describe(speech.id))?.isSilent, true);
    await s.audio.remove(id);
    t.equal(await s.audio.describe(id), null);

    await s.ivrResume.remember(u.id, { sessionId: 's1' }, NOW, NOW + 1000);
    await s.ivrResume.remember(u.id, { sessionId: 's2' }, NOW, NOW + 1000);
    t.same(await s.ivrResume.recall(u.id, NOW + 999), { sessionId: 's2' });
    t.equal(await s.ivrResume.recall(u.id, NOW + 1000), null, 'expired');
    t.equal(await s.ivrResume.recall(u.id, NOW), null, 'and forgotten');
    await s.ivrResume.remember(u.id, { sessionId: 's3' }, NOW, NOW + 1000);
    await s.ivrResume.forget(u.id);
    t.equal(await s.ivrResume.recall(u.id, NOW), null);
  });

  t.test(`${backend.name}: speech on several nodes - start-up leaves the other nodes' rows`, async (t) => {
    const db = await backend.database(t);
    const [sa, sb] = [await db.open('node-a'), await db.open('node-b')];
    const dir = nodeDirs(t);
    const a = speechNode(t, join(dir, 'a'), sa);
    const b = speechNode(t, join(dir, 'b'), sb);
    const shared = a.service.speechId('Words both nodes say.');
    const own = a.service.speechId('Words only node A says.');
    const old = a.service.speechId('Words from before each node had its index.');
    await a.service.speechUrl('Words both nodes say.');
    await b.service.speechUrl('Words both nodes say.');
    await a.service.speechUrl('Words only node A says.');
    await a.service.speechUrl('Words from before each node had its index.');
    t.same(await speechIds(sa), [shared, own, old].sort());
    t.same(await speechIds(sb), [shared], "a node's index lists the files on its own disk");
    // As migration 012 left speech rendered before it: on no node in particular.
    await db.exec(`UPDATE audio_node_files SET node_id = '' WHERE audio_id = '${old}'`);

    // Node B comes back on an empty disk (a new machine): it forgets its own rows, and only those.
    await b.service.close();
    rmSync(join(dir, 'b', 'audio'), { recursive: true });
    const b2 = speechNode(t, join(dir, 'b'), sb);
    await b2.service.ready();
    t.equal(b2.service.cacheSize, 0);
    t.same(await speechIds(sb), [old], 'B dropped its lost file; the unclaimed row is left for a node that has it');
    t.same(await speechIds(sa), [shared, own, old].sort(), "A's rows are all there");

    // Node A comes back: its cache is whole, and it claims the older row whose file it has.
    const bytesOfA = a.service.cacheSize;
    await a.service.close();
    const a2 = speechNode(t, join(dir, 'a'), sa);
    await a2.service.ready();
    t.equal(a2.service.cacheSize, bytesOfA);
    t.equal(diskBytes(join(dir, 'a')), bytesOfA, "A's index counts what is on its disk");
    for (const words of [
      'Words both nodes say.',
      'Words only node A says.',
      'Words from before each node had its index.',
    ])
      await a2.service.speechUrl(words);
    t.equal(a2.calls(), 0, 'every text A had is still a cache hit on A');
    t.same(
      (await sa.audio.loadIndex()).filter((e) => e.id === old),
      [
        {
          id: old,
          kind: 'speech',
          text: 'Words from before each node had its index.',
          durationMs: (await a2.service.fileFor(old, 'wav')).durationMs,
          lastUsedAt: NOW,
          bytes: statSync((await a2.service.fileFor(old, 'wav')).path).size,
        },
      ],
      'claimed by A',
    );
    await b2.service.speechUrl('Words both nodes say.');
    t.equal(b2.calls(), 1, 'B renders what its disk lost');
    t.same(await speechIds(sb), [shared, old].sort());
  });

  t.test(
    `${backend.name}: speech on several nodes - eviction removes only the node's own files and rows`,
    async (t) => {
      const db = await backend.database(t);
      const [sa, sb] = [await db.open('node-a'), await db.open('node-b')];
      const dir = nodeDirs(t);
      const a = speechNode(t, join(dir, 'a'), sa, { cacheMaxBytes: 1024 * 1024 });
      const b = speechNode(t, join(dir, 'b'), sb);
      const shared = a.service.speechId(longText(1));
      await a.service.speechUrl(longText(1));
      await b.service.speechUrl(longText(1));
      const sharedOnB = (await b.service.fileFor(shared, 'wav')).path;
      for (let n = 2; n <= 4; n++) await a.service.speechUrl(longText(n));
      t.ok(a.service.cacheSize <= 1024 * 1024, `A's cache is under its limit (${a.service.cacheSize} bytes)`);
      t.equal(diskBytes(join(dir, 'a')), a.service.cacheSize, "and so is A's disk: the evicted file went");
      t.notOk(existsSync(join(dir, 'a', 'audio', shared.slice(0, 2), `${shared}.wav`)));
      await eventually(async () => {
        if ((await speechIds(sa)).includes(shared)) throw new Error("A's row of the evicted speech is still there");
      });
      t.same(await speechIds(sb), [shared], "B's row stays");
      t.ok(existsSync(sharedOnB), "B's file stays");
      t.equal((await b.service.fileFor(shared, 'wav')).path, sharedOnB);
      await b.service.speechUrl(longText(1));
      t.equal(b.calls(), 1, 'B still answers from its cache');
      t.equal((await sa.audio.describe(shared))?.kind, 'speech', 'the shared row stays while a node holds the speech');
      await sb.audio.remove(shared);
      t.equal(await sa.audio.describe(shared), null, 'and goes with the last node that held it');
    },
  );

  t.test(`${backend.name}: speech on several nodes - a URL signed by one node is served by another`, async (t) => {
    const db = await backend.database(t);
    const [sa, sb] = [await db.open('node-a'), await db.open('node-b')];
    const dir = nodeDirs(t);
    const a = speechNode(t, join(dir, 'a'), sa);
    const b = speechNode(t, join(dir, 'b'), sb);
    const url = new URL(await a.service.speechUrl('Signed on node A, played from node B.'));
    const id = a.service.speechId('Signed on node A, played from node B.');
    const http = Fastify();
    t.teardown(() => http.close());
    await http.register(audioPlugin(b.service));
    const [first, second] = await Promise.all([
      http.inject({ method: 'GET', url: url.pathname }),
      http.inject({ method: 'GET', url: url.pathname }),
    ]);
    t.equal(first.statusCode, 200);
    t.equal(first.headers['content-type'], 'audio/x-wav');
    t.same(first.rawPayload, readFileSync((await a.service.fileFor(id, 'wav')).path), 'the same audio as on A');
    t.same(second.rawPayload, first.rawPayload);
    t.equal(b.calls(), 1, 'rendered on B once, for both requests');
    t.same(await speechIds(sb), [id], "now in B's own index, from B's disk");
    t.equal(b.service.textFor(url.pathname), 'Signed on node A, played from node B.');
    t.equal((await http.inject({ method: 'GET', url: url.pathname })).statusCode, 200);
    t.equal(b.calls(), 1, 'then a cache hit on B');
    // A row whose words no longer give its id here (another version of the pipeline) is not B's to make.
    const forged = 'ab'.repeat(16);
    await sa.audio.insertAudio(
      {
        id: forged,
        kind: 'speech',
        engine: 'espeak-ng',
        voice: 'en',
        ratePercent: 100,
        text: 'Other words',
        spokenText: 'Other words',
        promptId: null,
        durationMs: 100,
        isSilent: false,
        userId: null,
        sessionId: null,
        messageId: null,
        now: NOW,
      },
      [{ format: 'wav', bytes: 1644, originalExt: null }],
    );
    await t.rejects(b.service.fileFor(forged, 'wav'), { code: 'AUDIO_NOT_FOUND' });
    t.equal(b.calls(), 1);
  });

  t.test(`${backend.name}: gateway - outside contacts, rosters, sessions, the outbox, connection state`, async (t) => {
    const db = await backend.database(t);
    const s = await db.open('node-a');
    const [alice, bob, dave, erin] = (await users(s, 4)) as [User, User, User, User];

    t.equal(await s.gateway.contactUser('dave@example.test'), null);
    await s.gateway.addContact('dave@example.test', dave.id, NOW);
    await s.gateway.addContact('dave@example.test', dave.id, NOW + 1);
    await s.gateway.addContact('erin@example.test', erin.id, NOW);
    t.equal(await s.gateway.contactUser('dave@example.test'), dave.id);
    t.equal(await s.gateway.contactJid(erin.id), 'erin@example.test');
    t.equal(await s.gateway.contactJid(alice.id), null, 'a local user is no contact');
    await s.gateway.addContact('other@example.test', dave.id, NOW);
    t.equal(
      await s.gateway.contactUser('other@example.test'),
      null,
      'one JID per shadow account: a second is not added',
    );
    t.same(await s.gateway.contacts(), [
      { jid: 'dave@example.test', userId: dave.id },
      { jid: 'erin@example.test', userId: erin.id },
    ]);

    t.equal(await s.gateway.rosterState(dave.id, alice.id), null);
    await s.gateway.setRoster(dave.id, alice.id, 'asked', NOW);
    t.equal(await s.gateway.rosterState(dave.id, alice.id), 'asked');
    await s.gateway.setRoster(erin.id, bob.id, 'approved', NOW);
    await s.gateway.setRoster(dave.id, bob.id, 'asking', NOW);
    await s.gateway.setRoster(dave.id, alice.id, 'approved', NOW + 1);
    await t.rejects(s.gateway.setRoster(erin.id, alice.id, 'friends' as never, NOW), 'only the three states');
    t.same(await s.gateway.approvedRoster(), [
      { contactUserId: dave.id, localUserId: alice.id },
      { contactUserId: erin.id, localUserId: bob.id },
    ]);
    await s.gateway.removeRoster(dave.id, bob.id);
    await s.gateway.removeRoster(dave.id, bob.id);
    t.equal(await s.gateway.rosterState(dave.id, bob.id), null);

    await s.presence.insertSession('g1', dave.id, [alice.id], NOW);
    await s.presence.insertSession('g2', dave.id, [alice.id], NOW);
    t.equal(await s.gateway.sessionOf(dave.id, alice.id), null);
    await s.gateway.setSession(dave.id, alice.id, 'g1', NOW);
    await s.gateway.setSession(dave.id, alice.id, 'g2', NOW + 1);
    t.equal(await s.gateway.sessionOf(dave.id, alice.id), 'g2', 'replaced');
    t.equal(await s.gateway.sessionOf(alice.id, dave.id), null);
    await t.rejects(s.gateway.setSession(erin.id, bob.id, 'no-such-session', NOW), 'a session that exists');

    const m = { stanzaId: 'm1-dave', from: 'alice@phone.example.test', to: 'dave@example.test', body: 'hi' };
    t.equal(await s.gateway.enqueue(m, NOW), true);
    t.equal(await s.gateway.enqueue({ ...m, body: 'again' }, NOW + 1), false, 'a stanza id is queued once');
    t.equal(await s.gateway.enqueue({ ...m, stanzaId: 'm2-dave', oobUrl: 'http://127.0.0.1/a.wav' }, NOW + 2), true);
    t.equal(await s.gateway.enqueue({ ...m, stanzaId: 'm3-dave', body: 'third' }, NOW + 3), true);
    const unsent = await s.gateway.unsent(10);
    t.same(
      unsent.map((x) => [x.stanzaId, x.from, x.to, x.body, x.oobUrl]),
      [
        ['m1-dave', m.from, m.to, 'hi', undefined],
        ['m2-dave', m.from, m.to, 'hi', 'http://127.0.0.1/a.wav'],
        ['m3-dave', m.from, m.to, 'third', undefined],
      ],
      'in queue order, as queued',
    );
    t.ok(unsent.every((x) => typeof x.seq === 'number'));
    t.ok((unsent[1]?.seq as number) > (unsent[0]?.seq as number), 'the queue order rises');
    t.same(
      (await s.gateway.unsent(1)).map((x) => x.stanzaId),
      ['m1-dave'],
      'the oldest first, to the limit',
    );
    await s.gateway.markSent(unsent[0]?.seq as number, NOW + 10);
    t.equal(await s.gateway.enqueue(m, NOW + 11), false, 'a sent stanza is not queued again');
    t.same(
      (await s.gateway.unsent(10)).map((x) => x.stanzaId),
      ['m2-dave', 'm3-dave'],
    );
    t.same(await s.gateway.counts(), { queued: 2, sent: 1, contacts: 2, approved: 2 });

    const other = await db.open('node-b');
    const both = await Promise.all([
      s.gateway.enqueue({ ...m, stanzaId: 'm4-erin' }, NOW),
      other.gateway.enqueue({ ...m, stanzaId: 'm4-erin' }, NOW),
    ]);
    t.same(both.sort(), [false, true], 'two nodes queue one stanza id once');
    t.same(
      (await other.gateway.unsent(10)).map((x) => x.stanzaId),
      ['m2-dave', 'm3-dave', 'm4-erin'],
      'one queue for every node',
    );

    const status = {
      nodeId: 'node-b',
      domain: 'phone.example.test',
      state: 'online',
      since: NOW,
      connects: 1,
      lastError: null,
      updatedAt: NOW,
    };
    await s.gateway.setStatus(status);
    await s.gateway.setStatus({ ...status, nodeId: 'node-a' });
    await other.gateway.setStatus({
      ...status,
      state: 'waiting',
      since: NOW + 5,
      connects: 2,
      lastError: 'connection refused',
      updatedAt: NOW + 6,
    });
    t.same(await other.gateway.statuses(), [
      { ...status, nodeId: 'node-a' },
      { ...status, state: 'waiting', since: NOW + 5, connects: 2, lastError: 'connection refused', updatedAt: NOW + 6 },
    ]);

    t.equal(await s.accounts.deleteUser(dave.id), true);
    t.same(
      await s.gateway.contacts(),
      [{ jid: 'erin@example.test', userId: erin.id }],
      'a removed shadow account takes its contact with it',
    );
    t.equal(await s.gateway.contactUser('dave@example.test'), null);
    t.equal(await s.gateway.rosterState(dave.id, alice.id), null, 'and its roster');
    t.equal(await s.gateway.sessionOf(dave.id, alice.id), null, 'and its sessions');
    t.same(await s.gateway.approvedRoster(), [{ contactUserId: erin.id, localUserId: bob.id }]);
  });

  t.test(`${backend.name}: federation - peers, outbox, received events, nonces, remote members`, async (t) => {
    const s = await one(t);
    const f = s.federation;
    const [u, v] = (await users(s, 2)) as [User, User];
    const KEY = 'MCowBQYDK2VwAyEAJ29jidRzvHzIsHytOewVZiUs8QfMk/jrVaUO5fr4N+8=';

    // peers
    t.same(await f.peers(), []);
    t.equal(await f.peer('b.example'), null);
    const b = await f.putPeer({ name: 'b.example', baseUrl: 'http://127.0.0.1:9', publicKey: KEY }, NOW);
    t.same(b, {
      name: 'b.example',
      baseUrl: 'http://127.0.0.1:9',
      publicKey: KEY,
      state: 'active',
      addedAt: NOW,
      lastOkAt: null,
      lastError: null,
    });
    await f.putPeer({ name: 'a.example', baseUrl: 'http://127.0.0.1:8', publicKey: KEY }, NOW);
    await f.peerResult('b.example', NOW + 5, 'did not answer');
    t.match(await f.peer('b.example'), { lastOkAt: null, lastError: 'did not answer' });
    await f.peerResult('b.example', NOW + 6, null);
    t.match(await f.peer('b.example'), { lastOkAt: NOW + 6, lastError: null });
    const moved = await f.putPeer({ name: 'b.example', baseUrl: 'http://127.0.0.1:10', publicKey: KEY }, NOW + 7);
    t.match(moved, { baseUrl: 'http://127.0.0.1:10', addedAt: NOW }, 'a peer added again keeps when it was added');
    t.same(
      (await f.peers()).map((p) => p.name),
      ['a.example', 'b.example'],
      'peers by name',
    );

    // the outbox: order, duplicates skipped, retries, removal
    await f.enqueue(
      'b.example',
      [
        { eventId: 'e1', body: '{"n":1}' },
        { eventId: 'e2', body: '{"n":2}' },
      ],
      NOW,
    );
    await f.enqueue(
      'b.example',
      [
        { eventId: 'e2', body: '{"n":2}' },
        { eventId: 'e3', body: '{"n":3}' },
      ],
      NOW + 1,
    );
    await f.enqueue('a.example', [{ eventId: 'e1', body: '{"a":1}' }], NOW);
    t.equal(await f.queueLength('b.example'), 3, 'an event id already queued for the peer is skipped');
    t.same((await f.peersWithQueue()).sort(), ['a.example', 'b.example']);
    const head = await f.head('b.example', 10);
    t.same(
      head.map((e) => e.eventId),
      ['e1', 'e2', 'e3'],
      'in the order queued',
    );
    t.match(head[0], { peer: 'b.example', body: '{"n":1}', attempts: 0, nextAt: NOW });
    t.ok(head.every((e) => typeof e.seq === 'number'));
    t.same(
      (await f.head('b.example', 2)).map((e) => e.eventId),
      ['e1', 'e2'],
    );
    await f.retryLater('b.example', [head[0]!.seq, head[1]!.seq], NOW + 500);
    t.match(await f.head('b.example', 1), [{ eventId: 'e1', attempts: 1, nextAt: NOW + 500 }]);
    await f.dequeue('b.example', [head[0]!.seq, head[1]!.seq]);
    t.same(
      (await f.head('b.example', 10)).map((e) => e.eventId),
      ['e3'],
      'delivered entries removed',
    );
    t.equal(await f.removePeer('a.example'), true);
    t.equal(await f.removePeer('a.example'), false, 'false when there was none');
    t.equal(await f.queueLength('a.example'), 0, "a removed peer's queue goes with it");
    t.same(await f.peersWithQueue(), ['b.example']);

    // received events: each once
    t.equal(await f.wasReceived('b.example', 'x1'), false);
    t.equal(await f.markReceived('b.example', 'x1', NOW), true);
    t.equal(await f.markReceived('b.example', 'x1', NOW + 1), false, 'an event is applied once');
    t.equal(await f.wasReceived('b.example', 'x1'), true);
    t.equal(await f.markReceived('c.example', 'x1', NOW), true, 'per peer');

    // nonces: once until they expire
    t.equal(await f.claimNonce('b.example', 'n1', NOW, NOW + 100), true);
    t.equal(await f.claimNonce('b.example', 'n1', NOW + 50, NOW + 150), false, 'a replay is refused');
    const both = await Promise.all([
      f.claimNonce('b.example', 'n2', NOW, NOW + 100),
      f.claimNonce('b.example', 'n2', NOW, NOW + 100),
    ]);
    t.same(both.sort(), [false, true], 'at the same time, one claim wins');
    t.equal(await f.claimNonce('b.example', 'n1', NOW + 100, NOW + 200), true, 'forgotten once expired');

    // remote members and aliases
    t.equal(await f.remoteMember('bob@b.example'), null);
    await f.addRemoteMember({ address: 'bob@b.example', userId: u.id, peer: 'b.example' });
    await f.addRemoteMember({ address: 'bob@b.example', userId: u.id, peer: 'b.example' });
    t.same(await f.remoteMember('bob@b.example'), { address: 'bob@b.example', userId: u.id, peer: 'b.example' });
    t.same(await f.remoteMemberByUser(u.id), { address: 'bob@b.example', userId: u.id, peer: 'b.example' });
    t.equal(await f.remoteMemberByUser(v.id), null);
    t.same(await f.remoteMembers(), [{ address: 'bob@b.example', userId: u.id, peer: 'b.example' }]);
    t.equal(await f.aliasOf('s1', v.id), null);
    await f.setAlias('s1', v.id, '+15550001@a.example');
    await f.setAlias('s1', v.id, '+15550002@a.example');
    t.equal(await f.aliasOf('s1', v.id), '+15550002@a.example', 'the latest alias');
  });

  t.test(`${backend.name}: status - migrations numbered, applied once, a newer database refused`, async (t) => {
    const db = await backend.database(t);
    const s = await db.open('node-a');
    const st = await s.status.migrationStatus();
    t.ok(st.applied.length >= 11);
    t.same(st.pending, []);
    t.same(
      st.applied.map((m) => m.version),
      [...st.applied.map((m) => m.version)].sort((x, y) => x - y),
      'in number order',
    );
    t.match(st.applied[0], { version: 1, name: 'accounts', appliedAt: /^\d{4}-\d\d-\d\dT/ });
    t.match(
      st.applied.find((m) => m.version === 7),
      { version: 7, name: 'admin-role' },
      'the admin role, under the same number and name on every backend',
    );
    t.equal(st.current, st.applied.at(-1)?.version);
    t.equal(await s.status.schemaVersion(), st.current);
    t.same(await s.status.migrate(), [], 'nothing left to apply');
    t.equal(await s.status.isWritable(), true);
    const other = await db.open('node-b');
    t.equal(await other.status.schemaVersion(), st.current, 'a second node finds the schema as it is');
    await db.exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'from-the-future')");
    await t.rejects(s.status.migrationStatus(), { code: 'STORE_SCHEMA_TOO_NEW', message: /999/ });
    await t.rejects(s.status.migrate(), { code: 'STORE_SCHEMA_TOO_NEW' });
    await t.rejects(db.open('node-c'), { code: 'STORE_SCHEMA_TOO_NEW' }, 'a node of an older build does not start');
    await s.close();
    await s.close();
    t.equal(await s.status.isWritable(), false, 'a closed store takes no writes');
  });

  t.test(`${backend.name}: the node feed carries messages and link events to the other nodes`, async (t) => {
    const db = await backend.database(t);
    const a = await db.open('node-a');
    const b = await db.open('node-b');
    const [u, v] = (await users(a, 2)) as [User, User];
    await a.presence.insertSession('s1', u.id, [v.id], NOW);
    const gotB: NodeFeedEvent[] = [];
    const gotA: NodeFeedEvent[] = [];
    await b.feed.subscribe((e) => gotB.push(e));
    await a.feed.subscribe((e) => gotA.push(e));
    const event = (n: number) => ({ type: 'presence', userId: u.id, state: 'online', n }) as never;
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(1) });
    const r = await a.messages.commit({
      entries: [text('s1', u.id, 'over there', [v.id]), text('s1', u.id, 'and again', [v.id])],
      delivered: [],
      cursors: [],
      now: NOW,
    });
    const ids = r.map((x) => String((x as { id: number }).id));
    for (const id of ids)
      await a.feed.publish({
        type: 'message',
        message: (await a.presence.message(Number(id))) as never,
        recipients: [v.id],
      });
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(2) });
    await eventually(() => {
      if (gotB.length < 4) throw new Error(`node-b has ${gotB.length} of 4`);
    });
    t.match(gotB[0], { type: 'link-event', recipientId: v.id, event: { n: 1 } });
    t.match(gotB[1], {
      type: 'message',
      message: { id: ids[0], text: 'over there', sessionId: 's1' },
      recipients: [v.id],
    });
    t.match(gotB[2], { type: 'message', message: { id: ids[1], text: 'and again' } });
    t.match(gotB[3], { type: 'link-event', event: { n: 2 } });
    // Then B speaks and A hears it; neither hears itself.
    await b.feed.publish({ type: 'link-event', recipientId: u.id, event: event(3) });
    await eventually(() => {
      if (gotA.length < 1) throw new Error('node-a heard nothing');
    });
    t.equal(gotB.length, 4, 'node-b did not hear itself');
    t.equal(gotA.length, 1, 'node-a did not hear itself');
    t.match(gotA[0], { type: 'link-event', recipientId: u.id, event: { n: 3 } });
    await b.feed.close();
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(4) });
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(5) });
    // A node that subscribes now hears from then on.
    const c = await db.open('node-c');
    const gotC: NodeFeedEvent[] = [];
    await c.feed.subscribe((e) => gotC.push(e));
    await a.feed.publish({ type: 'link-event', recipientId: v.id, event: event(6) });
    await eventually(() => {
      if (gotC.length < 1) throw new Error('node-c heard nothing');
    });
    t.match(gotC, [{ event: { n: 6 } }], 'a new node hears from when it subscribed');
    t.equal(gotB.length, 4, 'the closed feed heard nothing more');
  });
}
