/**
 * The ladder, told as what the recipient and the sender see: Bob is away;
 * Alice writes; after the collect delay Bob's phone rings (scripted reverse
 * log-on), then his pager beeps (the Debian SNPP server, the SMS centre),
 * then his mailbox gets the email (smtp-server, read with mailparser).
 * Time moves only when the test moves the ManualClock.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildServices, type Services } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { replyLinkSecret, verifyReplyToken } from '../../src/notify/reply-link.js';
import type { ReverseLogonOutcome } from '../../src/notify/reverse-logon-port.js';
import type { UnreachableMessage } from '../../src/notify/types.js';
import { eventually, testConfig } from '../support/env.js';
import {
  probeSeconds,
  ScriptedReverseLogon,
  type SmsCentre,
  type SmtpCapture,
  type SnppServer,
  startSmsCentre,
  startSmtp,
  startSnpp,
  toneMp3Port,
} from '../support/notify.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

interface World {
  svc: Services;
  clock: ManualClock;
  smtp: SmtpCapture;
  snpp: SnppServer;
  smsc: SmsCentre;
  phone: ScriptedReverseLogon;
  told: { senderUserId: number; sessionId: string; recipientId: number; text: string }[];
  alice: number;
  bob: number;
  /** Moves time and lets every step that became due finish. */
  advance(ms: number): Promise<void>;
}

let servers: { smtp: SmtpCapture; snpp: SnppServer; smsc: SmsCentre } | undefined;

t.before(async () => {
  servers = { smtp: await startSmtp(), snpp: await startSnpp(), smsc: await startSmsCentre() };
});
t.teardown(async () => {
  await servers?.smtp.close();
  await servers?.snpp.close();
  await servers?.smsc.close();
});

async function world(
  t: Test,
  opts: { outcome?: ReverseLogonOutcome | ((n: number) => ReverseLogonOutcome); withPhonePort?: boolean } = {},
): Promise<World> {
  const s = servers as NonNullable<typeof servers>;
  s.smtp.mails.length = 0;
  s.smtp.rcpt.length = 0;
  s.snpp.pages.length = 0;
  s.smsc.messages.length = 0;
  // Each world its own data directory (on PostgreSQL, its own database): a test may build two communities.
  if (!existsSync(t.testdirName)) t.testdir({});
  const dir = mkdtempSync(join(t.testdirName, 'world-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
  const config = testConfig(dir, {
    ...(await testStoreOverrides(dir)),
    http: { publicUrl: 'https://im.example.com' },
    notify: {
      collectDelaySeconds: 20,
      waitAfterCallSeconds: 60,
      waitAfterPageSeconds: 120,
      retryDelaySeconds: 30,
      pollSeconds: 3600,
      callbackNumber: '+1 555 0100',
      smtp: { port: s.smtp.port, from: 'Phone IM <notify@im.example.com>' },
      snpp: { port: s.snpp.port },
      smpp: { port: s.smsc.port, password: 'secret' },
    },
  });
  let n = 0;
  const phone = new ScriptedReverseLogon(async (_req, signal) => {
    const o = opts.outcome ?? { status: 'no-answer' };
    if (typeof o === 'function') return o(n++);
    if (o.status === 'failed' && o.reason === 'hang') {
      // Rings until aborted.
      await new Promise<void>((r) => signal?.addEventListener('abort', () => r()));
      return { status: 'no-answer' };
    }
    return o;
  });
  const told: World['told'] = [];
  const store = await openTestStore(config);
  const svc = buildServices({
    config,
    ...(store ? { store } : {}),
    log: silentLogger(),
    clock,
    ...(opts.withPhonePort === false ? {} : { reverseLogon: phone }),
    senderNotice: {
      tellSender: async (notice) => {
        told.push(notice);
      },
    },
    audio: toneMp3Port(3),
  });
  t.teardown(async () => {
    await svc.notifier.stop();
    await svc.smsReceiver.stop();
    await svc.store.close();
  });
  const alice = (await svc.accounts.createUser({ username: 'alice', displayName: 'Alice Jones' })).id;
  const bob = (await svc.accounts.createUser({ username: 'bob', displayName: 'Bob Smith', timeZone: 'UTC' })).id;
  // Without a port of the test's own, the platform's IVR would place the calls: "no call port" means none.
  if (opts.withPhonePort === false) svc.notifier.attach({ reverseLogon: undefined });
  await svc.notifier.start();
  return {
    svc,
    clock,
    ...s,
    phone,
    told,
    alice,
    bob,
    advance: async (ms: number) => {
      // What is under way arms its timers first (the store is async), then time moves.
      await svc.notifier.idle();
      clock.advance(ms);
      await svc.notifier.idle();
    },
  };
}

const msg = (w: World, id: string, text: string, extra: Partial<UnreachableMessage> = {}): UnreachableMessage => ({
  id,
  sessionId: 'sess-1',
  fromUserId: w.alice,
  fromName: 'Alice Jones',
  fromSpokenName: 'Alice',
  text,
  at: w.clock.now(),
  ...extra,
});

const states = async (w: World, alertId: string) =>
  (await w.svc.notifier.show(alertId)).steps.map((s) => `${s.channel}:${s.state}`);

t.test(
  'a burst of messages becomes one email: the text, a reply link that logs Bob in, the voice as MP3',
  async (t) => {
    const w = await world(t);
    await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
    const first = await w.svc.notifier.messageUnreachable({
      recipientId: w.bob,
      message: msg(w, 'm1', 'Are you free at 3?'),
    });
    t.equal(first.folded, false);
    await w.advance(5_000);
    const second = await w.svc.notifier.messageUnreachable({
      recipientId: w.bob,
      message: msg(w, 'm2', '', { audioId: 'voice-7', audioUrl: 'https://im.example.com/a/voice-7' }),
    });
    t.same(second, { alertId: first.alertId, folded: true }, 'the second message folds into the same alert');
    await w.advance(14_000);
    t.equal(w.smtp.mails.length, 0, 'nothing is sent during the collect delay');
    await w.advance(1_000);
    t.equal(w.smtp.mails.length, 1, 'one email for the burst');
    const mail = w.smtp.mails[0];
    if (!mail) throw new Error('no mail');
    t.same(w.smtp.rcpt[0], ['bob@example.com']);
    t.equal(mail.subject, '2 new messages from Alice Jones');
    t.equal(mail.from?.value[0]?.name, 'Alice Jones via Phone IM');
    t.match(mail.text, /Hello Bob Smith,/);
    t.match(mail.text, /Alice Jones \(1 Jan, 09:00\):\n {2}Are you free at 3\?/);
    t.match(mail.text, /\[voice message: the recording is attached\]/);
    t.match(mail.text, /Or call \+1 555 0100 to listen and reply by phone\./);
    const link = /Reply on the web: (\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    t.match(link, /^https:\/\/im\.example\.com\/reply\?t=v1\./);
    const token = new URL(link).searchParams.get('t');
    const secret = replyLinkSecret(w.svc.config);
    const claims = verifyReplyToken(secret, token, w.clock.now());
    t.match(claims, { ok: true, value: { userId: w.bob, sessionId: 'sess-1', alertId: first.alertId } });
    t.match(verifyReplyToken(secret, token, w.clock.now() + 8 * 24 * 3600_000), {
      ok: false,
      error: { code: 'NOTIFY_LINK_EXPIRED' },
    });
    t.match(verifyReplyToken(secret, `${token}x`, w.clock.now()), {
      ok: false,
      error: { code: 'NOTIFY_LINK_INVALID' },
    });
    t.match(verifyReplyToken('another secret of 32 characters.', token, w.clock.now()), {
      ok: false,
      error: { code: 'NOTIFY_LINK_INVALID' },
    });
    t.equal(mail.attachments.length, 1);
    const mp3 = mail.attachments[0];
    t.equal(mp3?.contentType, 'audio/mpeg');
    t.equal(mp3?.filename, 'voice-7.mp3');
    const seconds = await probeSeconds(mp3?.content as Buffer);
    t.ok(Math.abs(seconds - 3) < 0.2, `the MP3 lasts 3 s (${seconds})`);
    const view = await w.svc.notifier.show(first.alertId);
    t.match(view, { state: 'done', reason: 'ladder finished' });
    t.match(view.steps, [{ channel: 'email', state: 'delivered', attempts: 1, outcome: /^smtp: 250/ }]);
  },
);

t.test('pages go out over SNPP, SMPP and email-to-pager, each after the wait of the one before', async (t) => {
  const w = await world(t);
  await w.svc.accounts.addDevice('bob', { kind: 'pager', protocol: 'snpp', address: 'P-2001' });
  await w.svc.accounts.addDevice('bob', { kind: 'pager', protocol: 'smpp', address: '+1 555 010 7777' });
  await w.svc.accounts.addDevice('bob', { kind: 'pager', protocol: 'email', address: '5550107777@pager.example.com' });
  const long = 'Can you look at the quarterly numbers before the meeting? '.repeat(5);
  const { alertId } = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', long) });
  await w.advance(20_000);
  t.equal(w.snpp.pages.length, 1);
  t.equal(w.snpp.pages[0]?.pager, 'P-2001');
  const page = w.snpp.pages[0]?.mess ?? '';
  t.match(page, /^Alice Jones: Can you look at the quarterly numbers.*\.\.\. Call \+1 555 0100 to listen and reply\.$/);
  t.ok(page.length <= 160, `a page is short (${page.length})`);
  t.equal(w.smsc.messages.length, 0, 'the next pager waits');
  await w.advance(119_000);
  t.equal(w.smsc.messages.length, 0);
  await w.advance(1_000);
  // Over SMPP the page also invites a reply by SMS, with its code; the snippet is cut to make room.
  t.match(w.smsc.messages, [
    {
      destination: '15550107777',
      text: /^Alice Jones: Can you look at the .*\.\.\. Call \+1 555 0100 to listen and reply\. Reply \d{4} \+ your text to answer Alice Jones\.$/,
    },
  ]);
  t.ok((w.smsc.messages[0]?.text.length ?? 0) <= 160, 'still one SMS');
  await w.advance(120_000);
  t.same(w.smtp.rcpt, [['5550107777@pager.example.com']]);
  t.equal(w.smtp.mails[0]?.text, `${page}\n`);
  t.same(await states(w, alertId), ['page:delivered', 'page:delivered', 'page:delivered']);
  t.match(await w.svc.notifier.show(alertId), { state: 'done', reason: 'ladder finished' });
});

t.test('the reverse log-on call: each outcome leads to the right next step', async (t) => {
  const cases: { outcome: ReverseLogonOutcome; steps: string[]; reason: string | null; emailed: boolean }[] = [
    {
      outcome: { status: 'accepted' },
      steps: ['call:delivered', 'email:cancelled'],
      reason: 'call accepted',
      emailed: false,
    },
    {
      outcome: { status: 'declined' },
      steps: ['call:delivered', 'email:cancelled'],
      reason: 'call declined',
      emailed: false,
    },
    {
      outcome: { status: 'no-answer' },
      steps: ['call:failed', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
    {
      outcome: { status: 'busy' },
      steps: ['call:failed', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
    {
      outcome: { status: 'no-response' },
      steps: ['call:failed', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
    {
      outcome: { status: 'machine', leftVoicemail: false },
      steps: ['call:failed', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
    {
      outcome: { status: 'machine', leftVoicemail: true },
      steps: ['call:delivered', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
    {
      outcome: { status: 'failed', reason: 'trunk down' },
      steps: ['call:failed', 'email:delivered'],
      reason: 'ladder finished',
      emailed: true,
    },
  ];
  for (const c of cases) {
    await t.test(
      `callee: ${c.outcome.status}${c.outcome.status === 'machine' ? ` (voicemail ${c.outcome.leftVoicemail})` : ''}`,
      async (t) => {
        const w = await world(t, { outcome: c.outcome });
        await w.svc.accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 2222', label: 'mobile' });
        await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
        const { alertId } = await w.svc.notifier.messageUnreachable({
          recipientId: w.bob,
          message: msg(w, 'm1', 'Lunch?'),
        });
        await w.advance(20_000);
        t.equal(w.phone.requests.length, 1, 'Bob is called once');
        t.match(w.phone.requests[0], {
          alertId,
          userId: w.bob,
          phoneNumber: '+15550102222',
          senderSpokenName: 'Alice',
          senderUserId: w.alice,
          sessionId: 'sess-1',
          messages: [{ id: 'm1', text: 'Lunch?' }],
          ringSeconds: 30,
          leaveVoicemail: false,
        });
        if (c.steps[0] === 'call:failed') {
          // A call that reached nobody leaves nothing to wait for: the email goes at once.
          await w.advance(0);
        } else {
          await w.advance(59_000);
          t.equal(w.smtp.mails.length, 0, 'nothing before the wait after the call is over');
          await w.advance(1_000);
        }
        t.equal(w.smtp.mails.length, c.emailed ? 1 : 0);
        t.same(await states(w, alertId), c.steps);
        t.match(await w.svc.notifier.show(alertId), { state: 'done', reason: c.reason });
        if (c.outcome.status === 'declined')
          t.same(w.told, [
            {
              senderUserId: w.alice,
              sessionId: 'sess-1',
              recipientId: w.bob,
              text: 'Bob Smith declined your call-back request.',
            },
          ]);
        else t.same(w.told, [], 'the sender is told only of a decline');
      },
    );
  }
});

t.test('Bob logs on during the ladder: no further step; reading the message stops it too', async (t) => {
  const w = await world(t, { outcome: { status: 'failed', reason: 'hang' } });
  await w.svc.accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 2222' });
  await w.svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-3001' });
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  const { alertId } = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', 'Hi') });
  await w.svc.notifier.idle();
  w.clock.advance(20_000);
  // The call rings until it is abandoned: wait for it to start, not for it to end.
  await eventually(() => {
    if (w.svc.notifier.stepsInFlight !== 1) throw new Error('no call yet');
  });
  t.equal(w.svc.notifier.stepsInFlight, 1, 'the phone rings');
  t.equal(await w.svc.notifier.recipientActive(w.bob), 1, 'Bob opens the web page');
  await w.svc.notifier.idle();
  t.equal(w.phone.aborted, 1, 'the ringing call is abandoned');
  await w.advance(3600_000);
  t.equal(w.snpp.pages.length, 0, 'no page');
  t.equal(w.smtp.mails.length, 0, 'no email');
  t.same(await states(w, alertId), ['call:failed', 'page:cancelled', 'email:cancelled']);
  t.match(await w.svc.notifier.show(alertId), { state: 'cancelled', reason: 'recipient active' });
  t.equal(await w.svc.notifier.recipientActive(w.bob), 0, 'nothing left to cancel');

  // A second alert; Bob reads the message on another device between the page and the email.
  const w2 = await world(t, { outcome: { status: 'busy' } });
  await w2.svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-3001' });
  await w2.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  const second = await w2.svc.notifier.messageUnreachable({ recipientId: w2.bob, message: msg(w2, 'm9', 'Hi again') });
  await w2.advance(20_000);
  t.equal(w2.snpp.pages.length, 1);
  t.equal(await w2.svc.notifier.messageRead(w2.alice, 'm9'), 0, 'someone else reading it changes nothing');
  t.equal(await w2.svc.notifier.messageRead(w2.bob, 'm9'), 1);
  await w2.advance(3600_000);
  t.equal(w2.smtp.mails.length, 0);
  t.match(await w2.svc.notifier.show(second.alertId), { state: 'cancelled', reason: 'message read' });
  const trace = (await w2.svc.notifier.trace('m9')).map((e) => e.what);
  t.match(trace, [
    /alert opened for bob; collect delay until 2026-01-01T09:00:20/,
    /step 1 page\/snpp P-3001: started \(attempt 1\)/,
    /step 1 page\/snpp P-3001: delivered \(snpp: 250/,
    /step 2 email bob@example.com: cancelled \(message read\)/,
    /alert cancelled: message read/,
  ]);
});

t.test('quiet hours skip a device at its turn; no call port skips the call; a removed device is skipped', async (t) => {
  const w = await world(t, { withPhonePort: false });
  await w.svc.accounts.updateUser('bob', { timeZone: 'America/New_York' });
  // 09:00 UTC is 04:00 in New York.
  await w.svc.accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 2222' });
  await w.svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-4001', quietHours: '22:00-07:00' });
  const gone = await w.svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-4002' });
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com', quietHours: '12:00-13:00' });
  const { alertId } = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', 'Hi') });
  await w.svc.accounts.removeDevice('bob', gone.id);
  await w.advance(20_000);
  t.equal(w.snpp.pages.length, 0);
  t.equal(w.smtp.mails.length, 1, 'the email goes at once: every step before it was skipped');
  const steps = (await w.svc.notifier.show(alertId)).steps;
  t.match(steps, [
    { channel: 'call', state: 'skipped', outcome: 'no reverse log-on port configured' },
    { channel: 'page', state: 'skipped', outcome: 'quiet hours (22:00-07:00 America/New_York)' },
    { channel: 'email', state: 'delivered' },
  ]);
});

t.test('a server that says "try later" is retried; one that refuses moves the ladder on', async (t) => {
  const w = await world(t);
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@work.example.com' });
  await w.svc.notifier.setLadder('bob', [
    { deviceId: (await w.svc.accounts.listDevices('bob'))[1]?.id as number, waitSeconds: 10 },
    { deviceId: (await w.svc.accounts.listDevices('bob'))[0]?.id as number },
  ]);
  w.smtp.failNext.push({ code: 451, message: 'Mailbox busy' }, { code: 550, message: 'No such user' });
  const { alertId } = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', 'Hi') });
  await w.advance(20_000);
  t.match((await w.svc.notifier.show(alertId)).steps[0], { state: 'scheduled', attempts: 1, outcome: /451/ });
  await w.advance(30_000);
  t.match((await w.svc.notifier.show(alertId)).steps[0], {
    state: 'failed',
    attempts: 2,
    errorCode: 'NOTIFY_SMTP_REJECTED',
  });
  await w.advance(10_000);
  t.same(w.smtp.rcpt, [['bob@example.com']], 'the user ladder: work address first (refused), then home');
  t.same(await states(w, alertId), ['email:failed', 'email:delivered']);

  // An administrator retries the failed step.
  await t.rejects(w.svc.notifier.cancel(alertId), { code: 'NOTIFY_ALERT_ENDED' });
  await w.svc.notifier.retry(alertId);
  await t.rejects(w.svc.notifier.retry(alertId), { code: 'NOTIFY_NOT_RETRYABLE' });
  await w.advance(0);
  t.same(w.smtp.rcpt[1], ['bob@work.example.com']);
  t.same(await states(w, alertId), ['email:delivered', 'email:delivered']);
  await t.rejects(w.svc.notifier.retry(alertId), { code: 'NOTIFY_NOT_RETRYABLE', message: /no failed/ });
});

t.test('a failed page moves the ladder on at once; a ladder that reached nobody shows failed', async (t) => {
  const w = await world(t);
  await w.svc.accounts.addDevice('bob', { kind: 'pager', protocol: 'email', address: '5550107777@pager.example.com' });
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  w.smtp.failNext.push({ code: 550, message: 'No such pager' });
  const { alertId } = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', 'Hi') });
  await w.advance(20_000);
  await w.advance(0);
  t.same(await states(w, alertId), ['page:failed', 'email:delivered'], 'the email did not wait the page delay');
  t.same(w.smtp.rcpt.at(-1), ['bob@example.com']);
  t.match(await w.svc.notifier.show(alertId), { state: 'done', reason: 'ladder finished' });

  w.smtp.failNext.push({ code: 550, message: 'No such pager' }, { code: 550, message: 'No such user' });
  const second = await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm2', 'Hello?') });
  await w.advance(20_000);
  await w.advance(0);
  t.same(await states(w, second.alertId), ['page:failed', 'email:failed']);
  t.match(await w.svc.notifier.show(second.alertId), { state: 'failed', reason: /no step reached the recipient/ });
  t.match(await w.svc.notifier.list({ state: 'failed' }), [{ id: second.alertId }]);
  t.notMatch(await w.svc.notifier.list({ state: 'done' }), [{ id: second.alertId }]);
});

t.test('an alert email lists at most notify.emailMaxMessages messages and counts the rest', async (t) => {
  const w = await world(t);
  await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  let alertId = '';
  for (let i = 1; i <= 23; i++)
    alertId = (await w.svc.notifier.messageUnreachable({ recipientId: w.bob, message: msg(w, `m${i}`, `Note ${i}.`) }))
      .alertId;
  await w.advance(20_000);
  t.equal(w.smtp.mails.length, 1);
  const text = w.smtp.mails[0]?.text ?? '';
  t.match(w.smtp.mails[0]?.subject, /^23 new messages from Alice Jones$/);
  t.match(text, /You have 23 messages waiting:/);
  t.match(text, /\.\.\. and 3 more messages before these: read them on the web\./);
  t.notMatch(text, /Note 3\./, 'the oldest are not listed');
  t.match(text, /Note 4\.[\s\S]*Note 23\./, 'the newest 20 are');
  t.match(await w.svc.notifier.show(alertId), { state: 'done' });
});

t.test('bad input is refused with a coded error and changes nothing', async (t) => {
  const w = await world(t);
  const n = w.svc.notifier;
  await t.rejects(n.messageUnreachable({ recipientId: 999, message: msg(w, 'm1', 'x') }), {
    code: 'ACCOUNTS_USER_NOT_FOUND',
  });
  await t.rejects(n.messageUnreachable({ recipientId: w.bob, message: msg(w, '', 'x') }), {
    code: 'NOTIFY_INVALID_INPUT',
    message: /message id is empty/,
  });
  await t.rejects(n.messageUnreachable({ recipientId: w.bob, message: { ...msg(w, 'm1', 'x'), text: 5 as never } }), {
    code: 'NOTIFY_INVALID_INPUT',
  });
  await t.rejects(n.show('al-nope'), { code: 'NOTIFY_ALERT_NOT_FOUND' });
  await t.rejects(n.setLadder('bob', [{ deviceId: 12345 }]), { code: 'ACCOUNTS_DEVICE_NOT_FOUND' });
  const d = await w.svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  await t.rejects(n.setLadder('bob', [{ deviceId: d.id }, { deviceId: d.id }]), { code: 'NOTIFY_INVALID_INPUT' });
  await t.rejects(n.setLadder('bob', [{ deviceId: d.id, waitSeconds: -1 }]), { code: 'NOTIFY_INVALID_INPUT' });
  t.same(await n.list(), []);

  // An empty ladder of his own: Bob is never alerted.
  await n.setLadder('bob', []);
  const { alertId } = await n.messageUnreachable({ recipientId: w.bob, message: msg(w, 'm1', 'x') });
  await w.advance(20_000);
  t.match(await n.show(alertId), { state: 'done', reason: /no devices/ });
  t.equal(w.smtp.mails.length, 0);
  t.ok(await n.clearLadder('bob'));
  t.equal((await n.ladder('bob')).source, 'default');

  const test = await n.test('bob');
  await t.rejects(n.test('bob'), { code: 'NOTIFY_ALERT_BUSY' });
  await w.advance(0);
  t.match(w.smtp.mails[0]?.subject, /^\[test\] New message from Phone IM/);
  t.match(await n.show(test.id), { state: 'done', isTest: true });
});
