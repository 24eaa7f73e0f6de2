/**
 * The parts together: a message for someone with no link becomes an alert,
 * the email's reply link logs the recipient into the chat, delivery states
 * follow, and showing up cancels the ladder.
 */
import t, { type Test } from 'tap';
import { Platform } from '../src/app.js';
import { silentLogger } from '../src/core/logger.js';
import { testConfig } from './support/env.js';
import { startSmtp } from './support/notify.js';

async function until<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function community(t: Test, notify: Record<string, unknown>) {
  const smtp = await startSmtp();
  t.teardown(() => smtp.close());
  const config = testConfig(t.testdir({}), {
    notify: { collectDelaySeconds: 0, pollSeconds: 1, smtp: { port: smtp.port }, ...notify },
  });
  const platform = new Platform({ config, log: silentLogger() });
  t.teardown(() => platform.stop());
  const url = await platform.start();
  const { accounts, presence } = platform.services;
  const alice = await accounts.createUser({
    username: 'alice',
    displayName: 'Alice Jones',
    password: 'alice-secret-1',
  });
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob Smith', password: 'bob-secret-12' });
  await presence.requestContact(alice.id, bob.id);
  await presence.approveContact(bob.id, alice.id);
  const session = await presence.createSession(alice.id, [bob.id]);
  await presence.accept(session.id, bob.id);
  return { platform, url, smtp, alice, bob, session };
}

t.test('Alice writes to Bob, who has no link: Bob gets an email whose link opens the chat', async (t) => {
  const { platform, url, smtp, alice, bob, session } = await community(t, {});
  const { accounts, presence, notifier } = platform.services;
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });

  const message = await presence.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Are you there?' });
  const mail = await until('the alert email', () => smtp.mails[0]);
  t.same(smtp.rcpt[0], ['bob@example.test']);
  t.match(mail.text, /Alice Jones/);
  t.match(mail.text, /Are you there\?/);
  const link = await until(
    'a reply link',
    () => /(http:\/\/127\.0\.0\.1:\d+\/reply\?t=[\w.%-]+)/.exec(mail.text ?? '')?.[1],
  );
  t.ok(link.startsWith(url), 'the link points at this node');
  await until('the message marked notified', async () =>
    (await presence.deliveryStates(message.id)).some((d) => d.recipientId === bob.id && d.state === 'notified'),
  );

  const res = await fetch(link, { redirect: 'manual' });
  t.equal(res.status, 303);
  t.equal(res.headers.get('location'), `/chat/${encodeURIComponent(session.id)}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  t.match(cookie, /^sid=/);
  const page = await fetch(`${url}/chat/${encodeURIComponent(session.id)}`, { headers: { cookie } });
  t.equal(page.status, 200);
  t.match(await page.text(), /Are you there\?/);
  t.equal((await presence.presenceOf(bob.id)).state, 'online', 'following the link made Bob present');
  t.same(
    (await notifier.list({ user: 'bob' })).map((a) => a.state),
    ['done'],
  );

  const forged = await fetch(`${url}/reply?t=v1.eyJ1IjoxfQ.AAAA`, { redirect: 'manual' });
  t.equal(forged.status, 403);
  t.match(await forged.text(), /That reply link is not valid/);
  // The log-in form it shows sets only its pre-session cookie, never a session.
  t.notMatch(forged.headers.get('set-cookie') ?? '', /(^|[ ,])sid=/, 'a forged link logs nobody in');
});

t.test('Bob shows up while the alert is collecting: no step is taken', async (t) => {
  const { platform, smtp, alice, bob, session } = await community(t, { collectDelaySeconds: 600 });
  const { accounts, presence, notifier } = platform.services;
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  await presence.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Lunch?' });
  const [alert] = await until('an alert', async () => {
    const list = await notifier.list({ user: 'bob' });
    return list.length > 0 && list;
  });
  t.equal(alert?.state, 'collecting');
  const link = await presence.openLink(bob.id, { kind: 'websocket', deliver: () => {} });
  t.teardown(() => link.close());
  t.equal((await notifier.list({ user: 'bob' }))[0]?.state, 'cancelled');
  t.same(smtp.mails, []);
});

t.test('Alice writes to Bob, who has only a phone: the notifier calls him back and he accepts', async (t) => {
  const { ivrOnSimulator, Transcript } = await import('./ivr/support/sim-harness.js');
  const { platform, sim, audio, bob, alice } = await ivrOnSimulator(t, {});
  const { accounts, presence, notifier } = platform.services;
  await accounts.addDevice('bob', { kind: 'phone', address: '+15550100199' });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.test' });
  const callee = sim.setCallee('+15550100199', { behavior: 'answer', answerAfterMs: 500 });

  const session = await presence.createSession(alice.id, [bob.id]);
  await presence.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Can you talk now?' });
  const phone = new Transcript(await callee.nextCall(30_000), audio);
  await phone.hears(/^Hello\. Alice wants to chat with you\.$/);
  await phone.hears(/^Can you talk now\?$/);
  await phone.hears(/^Press 1 to accept/);
  await phone.caller.pressKeys('1');
  await phone.hears(/^You are in a chat with Alice\.$/);
  const [alert] = await notifier.list({ user: 'bob' });
  const steps = async () => (await notifier.show(alert?.id as string)).steps;
  await until('the call step to end', async () => (await steps())[0]?.state === 'delivered');
  t.match(
    await steps(),
    [
      { channel: 'call', state: 'delivered' },
      { channel: 'email', state: 'cancelled' },
    ],
    'no email',
  );
  t.match(
    await notifier.show(alert?.id as string),
    { state: 'cancelled', reason: 'recipient active' },
    'Bob came by phone',
  );
  t.equal((await presence.presenceOf(bob.id)).state, 'on-the-phone');
  await phone.caller.hangup();
});

t.test(
  'Alice writes to Bob, who logs on by phone from a known number: the message is spoken before he calls',
  async (t) => {
    const { platform, alice, bob, session } = await community(t, {});
    const { accounts, presence, audio } = platform.services;
    await accounts.addCallerId('bob', '+15550100188');
    await presence.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Lunch at noon?' });
    await until('the body rendered ahead', () => audio.textFor(audio.speechId('Lunch at noon?')) !== null);
    t.ok(bob.id, 'rendered with no call, no phone in the registry and no link');
  },
);
