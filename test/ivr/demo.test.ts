/**
 * `make run`'s demo: a community of two, and a call placed through the
 * simulator's control API (what a person does with curl) that can be
 * followed in the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { Platform } from '../../src/app.js';
import { createLogger } from '../../src/core/logger.js';
import { seedDemo } from '../../src/ivr/demo.js';
import { testConfig } from '../support/env.js';

// Each test starts a whole platform with its simulator: slow when the machine is busy, never stuck.
t.setTimeout(360_000);

t.test('the demo community is seeded once and a call through the control API is in the log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ivr-demo-'));
  const lines: Record<string, unknown>[] = [];
  const out = new PassThrough();
  out.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  const config = testConfig(dir, {
    demo: true,
    log: { level: 'info' },
    sim: { speedFactor: 20 },
    ivr: { firstDigitTimeoutMs: 1500, interDigitTimeoutMs: 1000 },
  });
  const platform = new Platform({ config, log: createLogger({ level: 'info', destination: out }) });
  t.teardown(async () => {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await platform.start();
  const { accounts, presence } = platform.services;
  const bob = await accounts.getUser('bob');
  const alice = await accounts.getUser('alice');
  t.ok(await presence.isContact(alice.id, bob.id), 'Alice and Bob are contacts');
  t.equal((await presence.unread(bob.id)).length, 2, 'Alice left Bob two messages');
  await seedDemo(platform.services, platform.sim);
  t.equal((await accounts.listUsers()).length, 2, 'seeding again changes nothing');
  t.equal((await presence.unread(bob.id)).length, 2);

  const ready = lines.find((l) => l.msg?.toString().startsWith('demo community ready'));
  t.match(
    ready,
    { placeCall: /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/sim\/calls -H 'authorization: Bearer [\w-]+'/ },
    'the log says how to call, with the control token',
  );
  t.notMatch(JSON.stringify(lines), /2468|1357|demo-password/, 'no PIN or password in the log');

  const control = platform.sim?.controlUrl as string;
  const authorization = `Bearer ${platform.sim?.controlToken}`;
  for (let i = 0; i < 400 && !platform.callControl.isConnected; i++) await new Promise((r) => setTimeout(r, 10));
  const placed = await fetch(`${control}/sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ from: '+15550100101', to: '100' }),
  });
  t.equal(placed.status, 201);
  const { channelId } = (await placed.json()) as { channelId: string };
  const heard = async (re: RegExp) => {
    for (let i = 0; i < 800; i++) {
      if (lines.some((l) => l.msg === 'caller hears' && re.test(String(l.says)))) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  };
  t.ok(await heard(/^Welcome back, Bob/), 'the log shows the greeting');
  await fetch(`${control}/sim/calls/${channelId}/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ digits: '2468#' }),
  });
  t.ok(await heard(/^You have 2 new messages\.$/), 'the log shows the count');
  t.ok(await heard(/^Hi Bob, are you free for lunch\?$/), 'and the message');
  await fetch(`${control}/sim/calls/${channelId}/hangup`, { method: 'POST', headers: { authorization } });
});
