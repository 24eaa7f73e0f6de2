/** The notifier inside the running platform: started with it, its reply links on the bound port, stopped with it. */
import t from 'tap';
import { Platform } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { replyLinkSecret, verifyReplyToken } from '../../src/notify/reply-link.js';
import { testConfig } from '../support/env.js';
import { startSmtp, until } from '../support/notify.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

t.test('with the call-back port detached the call is skipped; the email links to the bound URL', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const dir = t.testdir({});
  const config = testConfig(dir, {
    ...(await testStoreOverrides(dir)),
    notify: { smtp: { port: smtp.port }, collectDelaySeconds: 0 },
  });
  const store = await openTestStore(config);
  const platform = new Platform({ config, log: silentLogger(), ...(store ? { store } : {}) });
  t.teardown(() => platform.stop());
  const { accounts, notifier } = platform.services;
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob' });
  await accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 3333' });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  t.ok(platform.services.reverseLogon, 'the platform has the IVR as its call-back port');
  notifier.attach({ reverseLogon: undefined });
  const url = await platform.start();
  const { alertId } = await notifier.messageUnreachable({
    recipientId: bob.id,
    message: {
      id: 'm1',
      sessionId: 's1',
      fromUserId: alice.id,
      fromName: 'Alice',
      fromSpokenName: 'Alice',
      text: 'Hi',
      at: 0,
    },
  });
  await until(() => smtp.mails.length === 1, 10_000, 'the email');
  await notifier.idle();
  const link = /Reply on the web: (\S+)/.exec(smtp.mails[0]?.text ?? '')?.[1] ?? '';
  t.ok(link.startsWith(`${url}/reply?t=`), link);
  t.match(verifyReplyToken(replyLinkSecret(config), new URL(link).searchParams.get('t'), Date.now()), {
    ok: true,
    value: { userId: bob.id, sessionId: 's1', alertId },
  });
  t.match((await notifier.show(alertId)).steps, [
    { channel: 'call', state: 'skipped', outcome: 'no reverse log-on port configured' },
    { channel: 'email', state: 'delivered' },
  ]);

  // A port plugged in later (as the IVR's is): the next alert rings Bob first.
  const rang: string[] = [];
  notifier.attach({
    reverseLogon: {
      call: async (req) => {
        rang.push(req.phoneNumber);
        return { status: 'accepted' };
      },
    },
  });
  const second = await notifier.messageUnreachable({
    recipientId: bob.id,
    message: {
      id: 'm2',
      sessionId: 's1',
      fromUserId: alice.id,
      fromName: 'Alice',
      fromSpokenName: 'Alice',
      text: 'Hi',
      at: 0,
    },
  });
  await until(async () => (await notifier.show(second.alertId)).state === 'done', 10_000, 'the second alert');
  t.same(rang, ['+15550103333']);
  t.match(await notifier.show(second.alertId), { reason: 'call accepted' });
  t.equal(smtp.mails.length, 1, 'no second email: Bob accepted the call');
  await platform.stop();
  t.equal(notifier.stepsInFlight, 0);
});

t.test('reply links: malformed, forged and expired tokens are refused; the secret is kept', async (t) => {
  const dir = t.testdir({});
  const config = testConfig(dir);
  const secret = replyLinkSecret(config);
  t.equal(replyLinkSecret(config), secret, 'generated once, then read back');
  t.equal(replyLinkSecret({ dataDir: dir, notify: { linkSecret: 'x'.repeat(20) } }), 'x'.repeat(20));
  const { signReplyToken } = await import('../../src/notify/reply-link.js');
  const good = signReplyToken(secret, { userId: 7, sessionId: 's', alertId: 'a', expiresAt: 2000, nonce: 'n' });
  t.match(verifyReplyToken(secret, good, 1999), { ok: true, value: { userId: 7, nonce: 'n' } });
  t.match(verifyReplyToken(secret, good, 2000), { ok: false, error: { code: 'NOTIFY_LINK_EXPIRED' } });
  for (const bad of [undefined, 42, '', 'v1.a', 'v2.a.b', 'v1.a!.b', 'x'.repeat(3000), `${good.slice(0, -2)}AA`])
    t.match(verifyReplyToken(secret, bad, 0), { ok: false, error: { code: 'NOTIFY_LINK_INVALID' } }, String(bad));
  // A well-signed token whose payload is not the expected shape.
  const { createHmac } = await import('node:crypto');
  const forge = (payload: string) => {
    const body = `v1.${Buffer.from(payload).toString('base64url')}`;
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  };
  t.match(verifyReplyToken(secret, forge('not json'), 0), { ok: false, error: { message: /malformed/ } });
  t.match(verifyReplyToken(secret, forge('{"u":"7","s":"s","a":"a","e":5,"n":"n"}'), 0), {
    ok: false,
    error: { message: /malformed/ },
  });
});
