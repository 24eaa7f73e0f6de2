/**
 * Alert throughput: 1,000 recipients become unreachable at once (presence
 * tells the notifier of each without waiting for the others). Each has an
 * SNPP pager (Debian's Net::SNPP::Server on loopback) and then an email
 * address; no collect delay, no waits.
 *
 * The mail goes to smtp-server in a process of its own (smtp-process.ts), as
 * a real MTA is to the platform: in-process, the server's own work on each
 * mail shared the platform's event loop and both figures measured the server
 * as much as the sender. The in-process server (test/support/notify.ts, which
 * parses every mail) is still measured, as a second reference.
 *
 * References, measured first in the same run against the same servers:
 * - a bare nodemailer pooled loop (same pool size) sending the same number of
 *   mails, to the SMTP process (and to the in-process server);
 * - a bare SNPP sender: a minimal loop over as many kept-open connections as
 *   the product keeps, each sending PAGE / MESS / SEND page after page.
 *
 * Figures: time until every first step (the page) was taken, pages/s and
 * emails/s delivered (counted from the moment the first message was handed
 * to the notifier), and pages or emails lost or duplicated.
 * Bounded: 1,000 alerts, each part at most 120 seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTransport } from 'nodemailer';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startSmtp, startSnpp } from '../support/notify.js';
import { sqliteOf } from '../support/store.js';
import { report } from './report.js';
import { startSmtpProcess } from './smtp-process.js';

const BENCH = 'alerts';
const RECIPIENTS = 1000;
const MAX_MS = 120_000;
const CONCURRENCY = 64;
const SMTP_CONNECTIONS = 8;
const SNPP_CONNECTIONS = 4;
/** Mails the email reference sends first, untimed, to warm nodemailer's code. */
const WARM_UP = 200;

const dir = mkdtempSync(join(tmpdir(), 'bench-alerts-'));
const smtp = await startSmtpProcess();
const smtpInProcess = await startSmtp();
const snpp = await startSnpp();
const config = loadConfig({
  env: {},
  overrides: {
    dataDir: dir,
    log: { level: 'silent' },
    accounts: { kdfCost: 1024 },
    notify: {
      collectDelaySeconds: 0,
      waitAfterPageSeconds: 0,
      waitAfterEmailSeconds: 0,
      concurrency: CONCURRENCY,
      retryDelaySeconds: 1,
      callbackNumber: '+1 555 0100',
      smtp: { port: smtp.port, maxConnections: SMTP_CONNECTIONS },
      snpp: { port: snpp.port, maxConnections: SNPP_CONNECTIONS },
    },
  },
});

/** How many times each of `keys` was seen among `seen`: the keys never seen, and the extra copies. */
function lostAndDuplicated(keys: string[], seen: string[]): { lost: number; duplicated: number } {
  const count = new Map<string, number>();
  for (const k of seen) count.set(k, (count.get(k) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (const k of keys) {
    const n = count.get(k) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  return { lost, duplicated };
}

/**
 * The reference for email: nodemailer's own pool, as many connections, the same number of mails, and
 * the same connections as the product's (Nagle's algorithm off: see src/notify/mailer.ts). A first
 * round of WARM_UP mails over a pool of its own, not timed, warms nodemailer's code: the reference runs
 * first in the process, and cold it measured the JIT as much as the mail (ours ran warm after it).
 */
async function bareSmtp(
  server: { port: number; rcpt: string[][] },
  prefix: string,
): Promise<{ ms: number; lost: number; duplicated: number }> {
  const pool = () =>
    createTransport({
      host: '127.0.0.1',
      port: server.port,
      pool: true,
      getSocket: (_options, callback) => {
        const socket = connect({ host: '127.0.0.1', port: server.port, noDelay: true, keepAlive: true });
        socket.once('error', (e) => callback(e, undefined));
        socket.once('connect', () => callback(null, { connection: socket }));
      },
      maxConnections: SMTP_CONNECTIONS,
      maxMessages: config.notify.smtp.maxMessages,
    });
  const sendAll = async (transport: ReturnType<typeof pool>, to: string[]) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < to.length && performance.now() - t0 < MAX_MS) {
          const i = next++;
          await transport.sendMail({
            from: 'Phone IM <notify@localhost>',
            to: to[i],
            subject: `New message from Sender`,
            text: `Sender wrote: Message number ${i}\n\nReply on the web: http://127.0.0.1:8080/r/x\nCall +1 555 0100 to listen and reply.\n`,
          });
        }
      }),
    );
    transport.close();
    return performance.now() - t0;
  };
  // The SMTP process tells of each mail over IPC as it answers 250: let the count catch up.
  const landed = async (n: number) => {
    for (const end = performance.now() + 5000; server.rcpt.length < n && performance.now() < end; )
      await new Promise((r) => setTimeout(r, 10));
  };
  const before = server.rcpt.length;
  await sendAll(
    pool(),
    Array.from({ length: WARM_UP }, (_, i) => `warm-${prefix}${i}@example.com`),
  );
  await landed(before + WARM_UP);
  const to = Array.from({ length: RECIPIENTS }, (_, i) => `${prefix}${i}@example.com`);
  const ms = await sendAll(pool(), to);
  await landed(before + WARM_UP + RECIPIENTS);
  return { ms, ...lostAndDuplicated(to, server.rcpt.flat()) };
}

/** The reference for pages: a minimal SNPP sender over kept-open connections, page after page. */
async function bareSnpp(): Promise<{ ms: number; lost: number; duplicated: number }> {
  const ids = Array.from({ length: RECIPIENTS }, (_, i) => `R-${i}`);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: SNPP_CONNECTIONS }, async () => {
      const socket = connect({ host: '127.0.0.1', port: snpp.port });
      socket.setNoDelay(true);
      const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
      const expect = async (code: string) => {
        const line = (await lines.next()).value as string | undefined;
        if (!line?.startsWith(code)) throw new Error(`SNPP: expected ${code}, got ${line}`);
      };
      await expect('220');
      while (next < RECIPIENTS && performance.now() - t0 < MAX_MS) {
        const i = next++;
        for (const [command, code] of [
          [`PAGE ${ids[i]}`, '250'],
          [`MESS Sender: Message number ${i} Call +1 555 0100 to listen and reply.`, '250'],
          ['SEND', '250'],
        ] as const) {
          socket.write(`${command}\r\n`);
          await expect(code);
        }
      }
      socket.end('QUIT\r\n');
    }),
  );
  const ms = performance.now() - t0;
  // The server logs each page before it answers SEND, through its own pipe: let the log catch up before counting.
  for (const end = performance.now() + 5000; snpp.pages.length < RECIPIENTS && performance.now() < end; )
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 300)); // late duplicates, if any, would land now
  return {
    ms,
    ...lostAndDuplicated(
      ids,
      snpp.pages.map((p) => p.pager),
    ),
  };
}

const svc = buildServices({ config, log: silentLogger() });
let failed = false;
try {
  const refMail = await bareSmtp(smtp, 'ref');
  const refMailInProcess = await bareSmtp(smtpInProcess, 'ref');
  await smtpInProcess.close();
  const refPage = await bareSnpp();
  smtp.rcpt.length = 0;
  snpp.pages.length = 0;

  const sender = await svc.accounts.createUser({ username: 'sender', displayName: 'Sender' });
  const ids: number[] = [];
  for (let i = 0; i < RECIPIENTS; i++) {
    const u = await svc.accounts.createUser({ username: `user${i}`, displayName: `User ${i}` });
    await svc.accounts.addDevice(u.id, { kind: 'pager', protocol: 'snpp', address: `P-${i}` });
    await svc.accounts.addDevice(u.id, { kind: 'email', address: `user${i}@example.com` });
    ids.push(u.id);
  }
  await svc.notifier.start();
  const db = sqliteOf(svc.store);
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const firstStepsTaken = () =>
    count(`SELECT COUNT(*) AS n FROM notify_steps WHERE position = 1 AND state NOT IN ('scheduled', 'in-progress')`);
  const finished = () => count(`SELECT COUNT(*) AS n FROM notify_alerts WHERE state = 'done'`);

  const t0 = performance.now();
  // As presence does: one call per unreachable recipient, none waiting for another.
  await Promise.all(
    ids.map((id, i) =>
      svc.notifier.messageUnreachable({
        recipientId: id,
        message: {
          id: String(i + 1),
          sessionId: `s${i}`,
          fromUserId: sender.id,
          fromName: 'Sender',
          fromSpokenName: 'Sender',
          text: `Message number ${i}`,
          at: Date.now(),
        },
      }),
    ),
  );
  const tPosted = performance.now();
  let tFirst = 0;
  let tPages = 0;
  let tMails = 0;
  while (performance.now() - t0 < MAX_MS) {
    const now = performance.now();
    if (!tFirst && firstStepsTaken() >= RECIPIENTS) tFirst = now;
    if (!tPages && snpp.pages.length >= RECIPIENTS) tPages = now;
    if (!tMails && smtp.rcpt.length >= RECIPIENTS) tMails = now;
    if (tFirst && tPages && tMails && finished() >= RECIPIENTS) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const timedOut = finished() < RECIPIENTS;
  await new Promise((r) => setTimeout(r, 300)); // late duplicates, if any, would land now
  const pages = lostAndDuplicated(
    ids.map((_, i) => `P-${i}`),
    snpp.pages.map((p) => p.pager),
  );
  const mails = lostAndDuplicated(
    ids.map((_, i) => `user${i}@example.com`),
    smtp.rcpt.flat(),
  );
  const notDelivered = count(`SELECT COUNT(*) AS n FROM notify_steps WHERE state != 'delivered'`);

  console.log(
    `alerts: ${RECIPIENTS} unreachable recipients at once (SNPP page, then email; ${CONCURRENCY} steps at once, ` +
      `${SNPP_CONNECTIONS} SNPP and ${SMTP_CONNECTIONS} SMTP connections)`,
  );
  console.log(
    `  messages handed to the notifier: ${((tPosted - t0) / 1000).toFixed(2)} s; alerts finished: ${finished()}; ` +
      `steps not delivered: ${notDelivered}${timedOut ? ' (TIMED OUT)' : ''}`,
  );
  const seconds = (ms: number) => (ms ? ms / 1000 : Number.POSITIVE_INFINITY);
  const perSecond = (n: number, ms: number) => (ms ? n / (ms / 1000) : 0);
  const firstS = seconds(tFirst && tFirst - t0);
  report({
    bench: BENCH,
    what: `time until all ${RECIPIENTS} first steps (pages) were taken`,
    value: firstS,
    unit: 's',
    reference: { what: `bare SNPP sender, ${RECIPIENTS} pages`, value: refPage.ms / 1000 },
    goal: { text: '<= 1 s', met: firstS <= 1 },
  });
  const mailRate = perSecond(smtp.rcpt.length, tMails && tMails - t0);
  report({
    bench: BENCH,
    what: 'emails delivered per second (pooled SMTP, server in its own process)',
    value: mailRate,
    unit: '/s',
    reference: {
      what: 'bare nodemailer pooled loop, same server',
      value: perSecond(RECIPIENTS - refMail.lost, refMail.ms),
    },
    goal: { text: '>= 500/s', met: mailRate >= 500 },
  });
  console.log(
    `  for comparison: bare nodemailer pooled loop against the in-process smtp-server (parsing each mail): ` +
      `${perSecond(RECIPIENTS - refMailInProcess.lost, refMailInProcess.ms).toFixed(0)} /s`,
  );
  const pageRate = perSecond(snpp.pages.length, tPages && tPages - t0);
  report({
    bench: BENCH,
    what: 'pages delivered per second (SNPP, kept-open connections)',
    value: pageRate,
    unit: '/s',
    reference: { what: 'bare SNPP sender', value: perSecond(RECIPIENTS - refPage.lost, refPage.ms) },
    goal: { text: '>= 1,000/s', met: pageRate >= 1000 },
  });
  report({
    bench: BENCH,
    what: 'pages and emails lost',
    value: pages.lost + mails.lost,
    unit: '',
    reference: { what: 'bare senders', value: refPage.lost + refMail.lost + refMailInProcess.lost },
    goal: { text: '0', met: pages.lost + mails.lost === 0 },
  });
  report({
    bench: BENCH,
    what: 'pages and emails duplicated',
    value: pages.duplicated + mails.duplicated,
    unit: '',
    reference: {
      what: 'bare senders',
      value: refPage.duplicated + refMail.duplicated + refMailInProcess.duplicated,
    },
    goal: { text: '0', met: pages.duplicated + mails.duplicated === 0 },
  });
  failed = timedOut || pages.lost + mails.lost + pages.duplicated + mails.duplicated > 0;
} finally {
  await svc.notifier.stop();
  await svc.store.close();
  await smtp.close();
  await smtpInProcess.close();
  await snpp.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
