/**
 * Answering an alert by SMS, against the smpp package's SMS centre on
 * loopback: Bob's page carries a reply code; his text message quoting it
 * lands in the session (Alice sees it live) and stops the ladder. A wrong
 * code, the right code from another number, a reused code and a code whose
 * alert was cancelled each get one polite SMS back and change nothing; the
 * polite answers are rate-limited per number. Codes never reach the log.
 */
import t from 'tap';
import { capturedLog, eventually } from '../support/env.js';
import { ApiClient, befriend, startPlatform, WsClient } from '../support/presence.js';
import { startSmsCentre } from '../support/notify.js';

t.setTimeout(120_000);

const BOB_MOBILE = '+15550104444';

t.test(
  'a text message with the live code answers the alert; wrong, foreign, reused and stale ones do not',
  async (t) => {
    const centre = await startSmsCentre({ systemId: 'phoneim', password: 'secret' });
    t.teardown(centre.close);
    const { lines, log } = capturedLog();
    const { platform, url } = await startPlatform(t, {
      log,
      overrides: {
        notify: {
          collectDelaySeconds: 0,
          waitAfterPageSeconds: 3600,
          smpp: { port: centre.port, password: 'secret', timeoutMs: 5000 },
          smsReplies: { rebindInitialMs: 100 },
        },
      },
    });
    const { accounts, notifier, presence } = platform.services;
    const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice', password: 'correct horse' });
    const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob', password: 'correct horse' });
    await befriend(platform, [alice.id, bob.id]);
    await accounts.addDevice('bob', { kind: 'pager', address: BOB_MOBILE, protocol: 'smpp' });
    await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });

    const api = await ApiClient.login(url, 'alice');
    const ws = await WsClient.connect(url, api.token);
    t.teardown(() => ws.close());
    const created = await api.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
    const sessionId = (created.body as { id: string }).id;
    await api.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Are you free at 3?' });

    const page = await eventually(() => {
      const m = centre.messages.find((x) => x.destination === BOB_MOBILE.slice(1));
      if (!m) throw new Error('no page yet');
      return m;
    });
    const code = /Reply (\d{4}) \+ your text to answer Alice\.$/.exec(page.text)?.[1] as string;
    t.ok(code, `the page invites a reply with a code: ${page.text}`);
    t.ok(page.text.length <= 160, 'one SMS');
    const alertId = (await notifier.list({ user: 'bob' }))[0]?.id as string;
    await eventually(() => {
      if (centre.receivers !== 1) throw new Error('the receiver is not bound yet');
    });

    const politeTo = (number: string) => centre.messages.filter((m) => m.destination === number.slice(1)).length;
    const history = async () =>
      ((await api.call('GET', `/api/v1/sessions/${sessionId}/messages`)).body as { messages: { text: string }[] })
        .messages;

    // A wrong code from Bob's own number.
    const wrong = code === '1234' ? '4321' : '1234';
    t.same(await centre.deliver(BOB_MOBILE, `${wrong} yes`), [0], 'acknowledged');
    await eventually(() => {
      if (politeTo(BOB_MOBILE) !== 2) throw new Error('no polite answer yet');
    });
    t.match(centre.messages.at(-1)?.text, /^Sorry, your reply was not delivered/);

    // The right code from another number: sender numbers can be forged.
    const forger = '+15550109999';
    await centre.deliver(forger, `${code} yes, send the money`);
    await eventually(() => {
      if (politeTo(forger) !== 1) throw new Error('no polite answer to the other number yet');
    });
    t.same(
      (await history()).map((m) => m.text),
      ['Are you free at 3?'],
      'nothing was posted',
    );
    t.equal((await notifier.show(alertId)).state, 'running', 'the ladder goes on');

    // The right code from Bob's number: a message from Bob in the session; the ladder stops.
    await centre.deliver(BOB_MOBILE, `${code} Yes, see you at 3`);
    const frame = await ws.next(
      (f) => f.type === 'message' && (f.message as { text?: string }).text === 'Yes, see you at 3',
    );
    t.match(frame.message, { fromUserId: bob.id, sessionId });
    await eventually(async () => {
      if ((await notifier.show(alertId)).state !== 'cancelled') throw new Error('still running');
    });
    t.match(await notifier.show(alertId), { reason: 'answered by SMS' });
    t.match((await notifier.show(alertId)).steps, [
      { channel: 'page', state: 'delivered' },
      { channel: 'email', state: 'cancelled' },
    ]);
    t.equal(
      (await presence.members(sessionId)).find((m) => m.userId === bob.id)?.state,
      'joined',
      'answering accepted',
    );

    // The same code again: used.
    await centre.deliver(BOB_MOBILE, `${code} and again`);
    await eventually(() => {
      if (politeTo(BOB_MOBILE) !== 3) throw new Error('no polite answer to the reuse yet');
    });

    // A code whose alert was cancelled: stale.
    await api.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Bring the tickets.' });
    const second = await eventually(() => {
      const m = centre.messages.filter((x) => x.destination === BOB_MOBILE.slice(1)).at(-1);
      const c = /Reply (\d{4}) /.exec(m?.text ?? '')?.[1];
      if (!c) throw new Error('no second page yet');
      return c;
    });
    const secondAlert = (await notifier.list({ user: 'bob', state: 'running' }))[0]?.id as string;
    await notifier.cancel(secondAlert);
    await centre.deliver(BOB_MOBILE, `${second} ok`);
    await eventually(() => {
      if (politeTo(BOB_MOBILE) !== 5) throw new Error('no polite answer to the stale code yet');
    });
    t.same(
      (await history()).map((m) => m.text),
      ['Are you free at 3?', 'Yes, see you at 3', 'Bring the tickets.'],
      'only the one good reply was posted',
    );

    // Three polite answers to Bob's number this hour: a fourth refusal is not answered.
    const before = centre.messages.length;
    const outcome = await platform.services.smsReplies.receive({ from: BOB_MOBILE, text: 'no code at all' });
    t.match(outcome, { status: 'refused', answered: false });
    t.equal(centre.messages.length, before, 'no SMS sent');

    // A delivery receipt is acknowledged and ignored.
    t.same(await centre.deliver(BOB_MOBILE, `id:1 sub:001 dlvrd:001 stat:DELIVRD ${code}`, { esmClass: 0x04 }), [0]);

    const logged = JSON.stringify(lines);
    t.ok(
      lines.some((l) => l.msg === 'alert answered by SMS'),
      'the answer is logged',
    );
    for (const secret of [`Reply ${code}`, `${code} Yes`, 'see you at 3', `"${code}"`, `"${second}"`])
      t.notOk(logged.includes(secret), `the log does not show ${secret}`);
  },
);

t.test('replies from one number are rate-limited; bad input changes nothing', async (t) => {
  const { platform } = await startPlatform(t, {
    overrides: { notify: { smsReplies: { maxPerSenderPerHour: 2, politePerSenderPerHour: 0 } } },
  });
  const { smsReplies } = platform.services;
  t.match(await smsReplies.receive({ from: 'PhoneIM', text: '1234 hi' }), { status: 'ignored' });
  t.match(await smsReplies.receive({ from: 42, text: null }), { status: 'ignored' });
  t.match(await smsReplies.receive({ from: '+15550101', text: '1234 hi' }), { status: 'refused', answered: false });
  t.match(await smsReplies.receive({ from: '15550101', text: '' }), { status: 'refused' });
  t.match(await smsReplies.receive({ from: '0015550101', text: '1234 hi' }), { status: 'limited' });
  t.match(await smsReplies.receive({ from: '+15550102', text: '1234 hi' }), { status: 'refused' }, 'another number');

  // A live code whose session does not take the message (it is gone): refused, nothing posted, the alert goes on.
  const { accounts, notifier } = platform.services;
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob' });
  const { alertId } = await notifier.messageUnreachable({
    recipientId: bob.id,
    message: {
      id: 'm1',
      sessionId: 'gone',
      fromUserId: alice.id,
      fromName: 'Alice',
      fromSpokenName: 'Alice',
      text: 'Hi',
      at: 0,
    },
  });
  const code = await smsReplies.codeFor({
    alertId,
    userId: bob.id,
    sessionId: 'gone',
    phone: '+15550103',
    senderName: 'Alice',
  });
  t.match(await smsReplies.receive({ from: '+15550103', text: `${code} hello` }), {
    status: 'refused',
    reason: 'the session did not take the message',
  });
  t.not((await notifier.show(alertId)).state, 'cancelled', 'the ladder was not stopped');
});
