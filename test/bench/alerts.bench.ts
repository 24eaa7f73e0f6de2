/**
 * Alert throughput: 1,000 recipients become unreachable at once. Each has
 * an SNPP pager (Debian's Net::SNPP::Server on loopback) and then an email
 * address (smtp-server in-process); no collect delay, no waits. Prints the
 * time until every first step was taken, pages/s and emails/s delivered, and
 * checks that every recipient got exactly one page and one email.
 * Bounded: 1,000 alerts, at most 180 seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServices } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startSmtp, startSnpp } from '../support/notify.js';
import { sqliteOf } from '../support/store.js';

const RECIPIENTS = 1000;
const MAX_MS = 180_000;
const CONCURRENCY = 64;

const dir = mkdtempSync(join(tmpdir(), 'bench-alerts-'));
const smtp = await startSmtp();
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
      smtp: { port: smtp.port, maxConnections: 8 },
      snpp: { port: snpp.port },
    },
  },
});
const svc = buildServices({ config, log: silentLogger() });
const outcome = { lost: 0, duplicated: 0, timedOut: false };
try {
  const sender = await svc.accounts.createUser({ username: 'sender', displayName: 'Sender' });
  const ids: number[] = [];
  for (let i = 0; i < RECIPIENTS; i++) {
    const u = await svc.accounts.createUser({ username: `user${i}`, displayName: `User ${i}` });
    await svc.accounts.addDevice(u.id, { kind: 'pager', protocol: 'snpp', address: `P-${i}` });
    await svc.accounts.addDevice(u.id, { kind: 'email', address: `user${i}@example.com` });
    ids.push(u.id);
  }
  await svc.notifier.start();
  const firstStepsTaken = () =>
    (
      sqliteOf(svc.store)
        .prepare(
          `SELECT COUNT(*) AS n FROM notify_steps WHERE position = 1 AND state NOT IN ('scheduled', 'in-progress')`,
        )
        .get() as { n: number }
    ).n;
  const finished = () =>
    (sqliteOf(svc.store).prepare(`SELECT COUNT(*) AS n FROM notify_alerts WHERE state = 'done'`).get() as { n: number })
      .n;

  const t0 = performance.now();
  for (const [i, id] of ids.entries())
    await svc.notifier.messageUnreachable({
      recipientId: id,
      message: {
        id: `m${i}`,
        sessionId: `s${i}`,
        fromUserId: sender.id,
        fromName: 'Sender',
        fromSpokenName: 'Sender',
        text: `Message number ${i}`,
        at: Date.now(),
      },
    });
  const tPosted = performance.now();
  let tFirst = 0;
  let tPages = 0;
  let tMails = 0;
  while (performance.now() - t0 < MAX_MS) {
    const now = performance.now();
    if (!tFirst && firstStepsTaken() >= RECIPIENTS) tFirst = now;
    if (!tPages && snpp.pages.length >= RECIPIENTS) tPages = now;
    if (!tMails && smtp.mails.length >= RECIPIENTS) tMails = now;
    if (tFirst && tPages && tMails && finished() >= RECIPIENTS) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  outcome.timedOut = finished() < RECIPIENTS;
  await new Promise((r) => setTimeout(r, 300)); // late duplicates, if any, would land now
  const pagesPer = new Map<string, number>();
  for (const p of snpp.pages) pagesPer.set(p.pager, (pagesPer.get(p.pager) ?? 0) + 1);
  const mailsPer = new Map<string, number>();
  for (const r of smtp.rcpt) for (const a of r) mailsPer.set(a, (mailsPer.get(a) ?? 0) + 1);
  for (let i = 0; i < RECIPIENTS; i++) {
    for (const n of [pagesPer.get(`P-${i}`) ?? 0, mailsPer.get(`user${i}@example.com`) ?? 0]) {
      if (n === 0) outcome.lost++;
      if (n > 1) outcome.duplicated += n - 1;
    }
  }
  const failedSteps = (
    sqliteOf(svc.store).prepare(`SELECT COUNT(*) AS n FROM notify_steps WHERE state != 'delivered'`).get() as {
      n: number;
    }
  ).n;
  const s = (ms: number) => (ms ? `${(ms / 1000).toFixed(2)} s` : 'not reached');
  const rate = (n: number, ms: number) => (ms ? `${(n / (ms / 1000)).toFixed(0)}/s` : '-');
  console.log(
    `alerts: ${RECIPIENTS} unreachable recipients at once (SNPP page, then email; ${CONCURRENCY} steps at once)`,
  );
  console.log(`  messages handed to the notifier: ${s(tPosted - t0)}`);
  console.log(`  every first step taken (page sent): ${s(tFirst && tFirst - t0)}`);
  console.log(
    `  pages at the SNPP server:  ${snpp.pages.length} in ${s(tPages && tPages - t0)} (${rate(snpp.pages.length, tPages && tPages - t0)})`,
  );
  console.log(
    `  emails at the SMTP server: ${smtp.mails.length} in ${s(tMails && tMails - t0)} (${rate(smtp.mails.length, tMails && tMails - t0)})`,
  );
  console.log(`  alerts finished: ${finished()}; steps not delivered: ${failedSteps}`);
  console.log(`  lost: ${outcome.lost}, duplicated: ${outcome.duplicated}${outcome.timedOut ? ' (TIMED OUT)' : ''}`);
} finally {
  await svc.notifier.stop();
  await svc.store.close();
  await smtp.close();
  await snpp.close();
  rmSync(dir, { recursive: true, force: true });
}
if (outcome.lost || outcome.duplicated || outcome.timedOut) process.exit(1);
