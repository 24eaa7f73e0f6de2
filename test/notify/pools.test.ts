/**
 * Kept-open connections, seen from the servers: many emails over few SMTP
 * connections; pages one after another on one SNPP connection, which
 * survives a refusal (RESE) and the server hanging up on it; and, through
 * the notifier, one recipient's refusal leaving every other page and email
 * delivered exactly once.
 */
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { buildServices } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { SmtpSender } from '../../src/notify/mailer.js';
import { SnppPool } from '../../src/notify/snpp-client.js';
import { eventually, testConfig } from '../support/env.js';
import { startSmtp, startSnpp, until } from '../support/notify.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

const mail = (i: number) => ({
  to: `user${i}@example.com`,
  subject: `Message ${i}`,
  text: `Alice wrote: number ${i}\n`,
  messageId: `<m${i}.1.1@phoneim.notify>`,
  date: new Date(Date.UTC(2026, 0, 1, 9)),
});

t.test('SMTP: forty emails at once travel over at most two connections, each delivered once', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const cfg = testConfig(t.testdir({}), { notify: { smtp: { port: smtp.port, maxConnections: 2 } } }).notify;
  const sender = new SmtpSender(cfg.smtp);
  t.teardown(() => sender.close());
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => sender.send(mail(i))));
  t.ok(
    results.every((r) => r.status === 'delivered'),
    'every email delivered',
  );
  t.same(
    smtp.rcpt
      .flat()
      .map((a) => Number(/\d+/.exec(a)?.[0]))
      .sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
    'each mailbox got its email once',
  );
  t.ok(smtp.connections >= 1 && smtp.connections <= 2, `${smtp.connections} SMTP connections`);
  t.ok(smtp.mostOpen <= 2);
});

t.test('SNPP: pages follow one another on one kept-open connection; a refusal is reset, not fatal', async (t) => {
  const snpp = await startSnpp();
  t.teardown(snpp.close);
  const pool = new SnppPool({ host: '127.0.0.1', port: snpp.port, timeoutMs: 5000, maxConnections: 1 });
  t.teardown(() => pool.close());
  t.match(await pool.page('P-1', 'Alice: lunch?'), { status: 'delivered' });
  // The server keeps a refused page's pager and text until RESEt: the next page would otherwise be refused too.
  t.match(await pool.page('reject-2', 'nope'), { status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail: /554/ });
  const more = await Promise.all(['P-3', 'P-4', 'P-5'].map((id) => pool.page(id, `for ${id}`)));
  t.ok(
    more.every((r) => r.status === 'delivered'),
    'the pages after the refusal delivered',
  );
  await until(() => snpp.pages.length >= 4, 5000, 'four pages in the server log');
  t.same(
    snpp.pages.map((p) => p.pager),
    ['P-1', 'P-3', 'P-4', 'P-5'],
  );
  t.equal(snpp.connections, 1, 'all over one connection');
});

t.test('SNPP: when the pager server hangs up an idle connection, the next page opens a new one', async (t) => {
  const snpp = await startSnpp(undefined, { idleSeconds: 1 });
  t.teardown(snpp.close);
  const pool = new SnppPool({ host: '127.0.0.1', port: snpp.port, timeoutMs: 5000, maxConnections: 2, idleMs: 60_000 });
  t.teardown(() => pool.close());
  t.match(await pool.page('P-1', 'first'), { status: 'delivered' });
  t.match(await pool.page('P-2', 'second'), { status: 'delivered' });
  t.equal(pool.connections, 1);
  // Net::SNPP::Server says "421 Timeout, Goodbye" after a second of silence and closes.
  await until(() => pool.connections === 0, 10_000, 'the idle connection closed by the server');
  t.match(await pool.page('P-3', 'third'), { status: 'delivered' });
  await until(() => snpp.pages.length >= 3, 5000, 'three pages in the server log');
  t.same(
    snpp.pages.map((p) => p.pager),
    ['P-1', 'P-2', 'P-3'],
    'each page once',
  );
  t.equal(snpp.connections, 2);
});

/** An SNPP peer that takes one page per connection, then hangs up without a word when the next PAGE comes. */
async function onePagePerConnection(): Promise<{
  port: number;
  got: string[][];
  close: () => Promise<void>;
}> {
  const got: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    const lines: string[] = [];
    got.push(lines);
    s.write('220 ready\r\n');
    let buf = '';
    let sent = false;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let n = buf.indexOf('\n'); n >= 0; n = buf.indexOf('\n')) {
        const line = buf.slice(0, n).replace(/\r$/, '');
        buf = buf.slice(n + 1);
        lines.push(line);
        if (line.startsWith('PAGE') && sent) {
          s.destroy();
          return;
        }
        if (line === 'SEND') sent = true;
        s.write(line === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    got,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

t.test('SNPP: a reused connection found closed before SEND: the page goes once, on a new connection', async (t) => {
  const peer = await onePagePerConnection();
  t.teardown(peer.close);
  const pool = new SnppPool({ host: '127.0.0.1', port: peer.port, timeoutMs: 5000, maxConnections: 1 });
  t.teardown(() => pool.close());
  t.match(await pool.page('P-1', 'first'), { status: 'delivered' });
  t.match(await pool.page('P-2', 'second'), { status: 'delivered' });
  t.same(peer.got[0], ['PAGE P-1', 'MESS first', 'SEND', 'PAGE P-2'], 'the first connection hung up on PAGE');
  t.same(peer.got[1]?.slice(0, 3), ['PAGE P-2', 'MESS second', 'SEND'], 'the page went again on a new one');
  t.equal(peer.got.flat().filter((l) => l === 'SEND').length, 2, 'SEND once per page');
});

t.test(
  'Notifier: one recipient refused by the pager server and one by the mail server; every other page and email delivered once',
  async (t) => {
    const smtp = await startSmtp();
    t.teardown(smtp.close);
    const snpp = await startSnpp();
    t.teardown(snpp.close);
    const N = 12;
    const dir = t.testdir({});
    const config = testConfig(dir, {
      ...(await testStoreOverrides(dir)),
      notify: {
        collectDelaySeconds: 0,
        waitAfterPageSeconds: 0,
        waitAfterEmailSeconds: 0,
        concurrency: 8,
        smtp: { port: smtp.port, maxConnections: 2 },
        snpp: { port: snpp.port, maxConnections: 2 },
      },
    });
    const store = await openTestStore(config);
    const svc = buildServices({ config, log: silentLogger(), ...(store ? { store } : {}) });
    t.teardown(async () => {
      await svc.notifier.stop();
      await svc.store.close();
    });
    const alice = await svc.accounts.createUser({ username: 'alice', displayName: 'Alice' });
    const users: number[] = [];
    for (let i = 0; i < N; i++) {
      const u = await svc.accounts.createUser({ username: `user${i}`, displayName: `User ${i}` });
      await svc.accounts.addDevice(u.id, { kind: 'pager', protocol: 'snpp', address: i === 3 ? 'reject-3' : `P-${i}` });
      await svc.accounts.addDevice(u.id, { kind: 'email', address: `user${i}@example.com` });
      users.push(u.id);
    }
    smtp.refuse.add('user5@example.com');
    await svc.notifier.start();
    await Promise.all(
      users.map((id, i) =>
        svc.notifier.messageUnreachable({
          recipientId: id,
          message: {
            id: `m${i}`,
            sessionId: `s${i}`,
            fromUserId: alice.id,
            fromName: 'Alice',
            fromSpokenName: 'Alice',
            text: `Are you free at ${i}?`,
            at: Date.now(),
          },
        }),
      ),
    );
    await eventually(
      async () => {
        const all = await svc.notifier.list({ limit: 100 });
        const open = all.filter((a) => a.state === 'collecting' || a.state === 'running');
        if (all.length < N || open.length > 0) throw new Error(`${open.length} alerts still open`);
      },
      { timeoutMs: 30_000 },
    );
    await until(() => snpp.pages.length >= N - 1, 5000, 'the pages in the server log');
    const pagers = snpp.pages.map((p) => p.pager).sort();
    t.same(
      pagers,
      Array.from({ length: N }, (_, i) => `P-${i}`)
        .filter((p) => p !== 'P-3')
        .sort(),
      'each page once',
    );
    const mailed = smtp.rcpt.flat().sort();
    t.same(
      mailed,
      Array.from({ length: N }, (_, i) => `user${i}@example.com`)
        .filter((a) => a !== 'user5@example.com')
        .sort(),
      'each email once',
    );
    const alerts = await svc.notifier.list({ limit: 100 });
    t.equal(alerts.length, N);
    t.ok(
      alerts.every((a) => a.state === 'done'),
      'every alert ended done (each reached its recipient one way)',
    );
    const stepsOf = async (i: number) =>
      (await svc.notifier.show((await svc.notifier.list({ user: `user${i}` }))[0]?.id ?? '')).steps;
    t.match(await stepsOf(3), [
      { channel: 'page', state: 'failed', errorCode: 'NOTIFY_SNPP_REJECTED' },
      { state: 'delivered' },
    ]);
    t.match(await stepsOf(5), [
      { state: 'delivered' },
      { channel: 'email', state: 'failed', errorCode: 'NOTIFY_SMTP_REJECTED' },
    ]);
    t.ok(snpp.connections <= 2, `pages over ${snpp.connections} SNPP connections`);
    t.ok(smtp.mostOpen <= 2, `emails over ${smtp.connections} SMTP connections, at most ${smtp.mostOpen} at once`);
  },
);
