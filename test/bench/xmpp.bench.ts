/**
 * XMPP gateway figures, beside a plain client-to-client round trip through
 * the same Prosody in the same run.
 *
 * An XMPP user (@xmpp/client) writes to a local user through the gateway; the
 * local user's link echoes each message back into the session, so each round
 * trip is XMPP -> component -> message cache -> component -> XMPP. The plain
 * path is the same XMPP user writing to another XMPP user on the same Prosody
 * who echoes it back.
 *
 * 1. Latency: round trips one at a time, p50/p99. Bounded: 300 round trips or 10 s per path.
 * 2. Throughput: 100 messages in flight; messages/s counted at the echoes. Bounded: 3,000 or 10 s per path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Prosody } from '../support/prosody.js';
import { percentile, report } from './report.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';

const LATENCY_MAX = 300;
const LATENCY_MS = 10_000;
const THROUGHPUT_MAX = 3_000;
const THROUGHPUT_MS = 10_000;
const IN_FLIGHT = 100;

const pct = (sorted: number[], p: number) => percentile(sorted, p).toFixed(2);

interface Measured {
  p50: number;
  p99: number;
  rate: number;
}

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends to `to` and counts the echoes that come back from `echoFrom`. */
class Echoes {
  private waiting = new Map<string, () => void>();
  count = 0;
  constructor(
    readonly user: XmppUser,
    readonly to: string,
  ) {
    user.xmpp.on('stanza', (s: XmppUser['stanzas'][number]) => {
      const body = s.name === 'message' ? s.getChildText('body') : null;
      if (!body || s.attrs.from?.split('/')[0] !== to) return;
      this.count++;
      const done = this.waiting.get(body);
      if (done) {
        this.waiting.delete(body);
        done();
      }
    });
  }

  roundTrip(body: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(body, resolve);
      void this.user.chat(this.to, body);
    });
  }
}

async function measure(label: string, echoes: Echoes): Promise<Measured> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < LATENCY_MAX && performance.now() - start < LATENCY_MS; i++) {
    const t0 = performance.now();
    await Promise.race([echoes.roundTrip(`${label} ping ${i}`), new Promise((r) => setTimeout(r, 5000))]);
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  const base = echoes.count;
  let sent = 0;
  const t1 = performance.now();
  while (sent < THROUGHPUT_MAX && performance.now() - t1 < THROUGHPUT_MS) {
    if (sent - (echoes.count - base) < IN_FLIGHT) void echoes.user.chat(echoes.to, `${label} load ${sent++}`);
    else await new Promise((r) => setImmediate(r));
  }
  await until(() => echoes.count - base >= sent, 10_000).catch(() => {});
  const seconds = (performance.now() - t1) / 1000;
  const got = echoes.count - base;
  console.log(
    `  ${label.padEnd(22)} round trip p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms (${latencies.length} trips); ` +
      `${Math.round(got / seconds)} messages/s echoed (${got} of ${sent} in ${seconds.toFixed(2)} s)`,
  );
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rate: got / seconds };
}

async function main(): Promise<void> {
  const prosody = await Prosody.start({ users: ['dave', 'erin'] });
  if (!(prosody instanceof Prosody)) {
    console.log(`  skipped: ${prosody.skip}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-xmpp-'));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      log: { level: 'silent' },
      http: { port: 0 },
      accounts: { kdfCost: 1024 },
      gateway: gatewaySection(prosody, { maxStanzasPerSecond: 10_000 }),
    },
  });
  const platform = new Platform({ config, log: silentLogger() });
  const users: XmppUser[] = [];
  try {
    await platform.start();
    const { presence, accounts, gateway } = platform.services;
    const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
    // Alice's link echoes every message into its session (accepting the invitation first).
    await presence.openLink(alice.id, {
      kind: 'websocket',
      deliver: (e) => {
        if (e.type === 'invite') void presence.accept(e.session.id, alice.id);
        if (e.type === 'message' && e.message.fromUserId !== alice.id)
          void presence.postMessage({
            sessionId: e.message.sessionId,
            fromUserId: alice.id,
            text: e.message.text ?? '',
          });
      },
    });
    await until(() => gateway?.isConnected === true, 15_000);
    const dave = await XmppUser.connect(prosody, 'dave');
    const erin = await XmppUser.connect(prosody, 'erin');
    users.push(dave, erin);
    erin.xmpp.on('stanza', (s: XmppUser['stanzas'][number]) => {
      const body = s.name === 'message' ? s.getChildText('body') : null;
      if (body && s.attrs.from)
        void erin.send(xml('message', { type: 'chat', to: s.attrs.from }, xml('body', {}, body)));
    });
    await dave.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
    await until(async () => (await presence.contactRequests(alice.id)).length > 0, 10_000);
    await presence.approveContact(alice.id, (await presence.contactRequests(alice.id))[0]?.fromUserId as number);
    await dave.next((s) => s.attrs.type === 'subscribed');

    console.log('XMPP gateway (Prosody 0.12 on loopback, one XMPP client, a local user echoing):');
    const direct = await measure('client-to-client', new Echoes(dave, erin.jid));
    const viaGateway = await measure('through the gateway', new Echoes(dave, jidOn('alice')));
    const ref = (what: string, value: number) => ({ what: `Prosody client-to-client ${what}`, value });
    report({
      bench: 'xmpp',
      what: 'gateway round trip p50',
      value: viaGateway.p50,
      unit: 'ms',
      reference: ref('p50', direct.p50),
    });
    report({
      bench: 'xmpp',
      what: 'gateway round trip p99',
      value: viaGateway.p99,
      unit: 'ms',
      reference: ref('p99', direct.p99),
    });
    report({
      bench: 'xmpp',
      what: 'messages echoed through the gateway',
      value: viaGateway.rate,
      unit: '/s',
      reference: ref('rate', direct.rate),
    });
  } finally {
    for (const u of users) await u.stop();
    await platform.stop();
    await prosody.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
