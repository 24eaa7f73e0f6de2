/**
 * The SMPP receiver against the smpp package's SMS centre on loopback: it
 * binds again after the centre drops it, survives garbage from the far end,
 * never binds with a refused password, and binds at start-up when codes of
 * pages sent before a restart are still live.
 */
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { silentLogger } from '../../src/core/logger.js';
import { SmppReceiver, shortMessageText } from '../../src/notify/smpp-receiver.js';
import { capturedLog, eventually } from '../support/env.js';
import { startSmsCentre } from '../support/notify.js';
import { startPlatform } from '../support/presence.js';

const smppConfig = (port: number, password = 'secret') => ({
  host: '127.0.0.1',
  port,
  systemId: 'phoneim',
  password,
  sourceAddr: 'PhoneIM',
  timeoutMs: 5000,
});

t.test('binds, takes replies, binds again after the SMS centre drops it', async (t) => {
  const centre = await startSmsCentre({ systemId: 'phoneim', password: 'secret' });
  t.teardown(centre.close);
  const got: { from: string; text: string }[] = [];
  const receiver = new SmppReceiver(smppConfig(centre.port), 50, async (sms) => got.push(sms), silentLogger());
  t.teardown(() => receiver.stop());
  receiver.ensure();
  receiver.ensure();
  await eventually(() => {
    if (!receiver.isBound) throw new Error('not bound');
  });
  t.same(await centre.deliver('+15550101', '1234 hello'), [0]);
  await eventually(() => {
    if (got.length !== 1) throw new Error('nothing yet');
  });
  t.same(got, [{ from: '15550101', text: '1234 hello' }]);
  centre.kick();
  await eventually(() => {
    if (receiver.binds !== 2 || centre.receivers !== 1) throw new Error('not bound again');
  });
  t.equal(centre.connections, 2, 'one new connection, no storm');
  await receiver.stop();
  await eventually(() => {
    if (centre.receivers !== 0) throw new Error('still bound');
  });
  t.equal(receiver.isBound, false);
});

t.test('a refused bind and garbage from the far end end nothing; it keeps trying, slower', async (t) => {
  const centre = await startSmsCentre({ systemId: 'phoneim', password: 'secret' });
  t.teardown(centre.close);
  const { lines, log } = capturedLog();
  const refused = new SmppReceiver(smppConfig(centre.port, 'wrong'), 50, async () => undefined, log);
  t.teardown(() => refused.stop());
  refused.ensure();
  await eventually(() => {
    if (centre.connections < 3) throw new Error('not retried yet');
  });
  t.equal(refused.binds, 0);
  t.ok(
    lines.some((l) => /bind_receiver refused/.test(String(l.msg))),
    'the refusal is logged',
  );
  t.notOk(JSON.stringify(lines).includes('wrong'), 'the password is not');
  await refused.stop();

  const sockets = new Set<Socket>();
  let accepted = 0;
  const junk = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.write(Buffer.from([0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  });
  await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    junk.close();
  });
  const port = (junk.address() as { port: number }).port;
  const receiver = new SmppReceiver(smppConfig(port), 50, async () => undefined, silentLogger());
  receiver.ensure();
  await eventually(() => {
    if (accepted < 2) throw new Error('not reconnected yet');
  });
  await receiver.stop();
  t.equal(receiver.isBound, false);
});

t.test('short_message in every shape the smpp package gives it', async (t) => {
  t.equal(shortMessageText('hi'), 'hi');
  t.equal(shortMessageText(Buffer.from('hé', 'latin1')), 'hé');
  t.equal(shortMessageText({ message: 'yo' }), 'yo');
  t.equal(shortMessageText({ message: Buffer.from('ok') }), 'ok');
  t.equal(shortMessageText({ message: 5 }), '');
  t.equal(shortMessageText(undefined), '');
});

t.test('after a restart, live codes make the receiver bind at start-up', async (t) => {
  const centre = await startSmsCentre({ systemId: 'phoneim', password: 'secret' });
  t.teardown(centre.close);
  const dir = t.testdir({});
  const overrides = { notify: { smpp: { port: centre.port, password: 'secret' }, collectDelaySeconds: 3600 } };
  const first = await startPlatform(t, { dir, overrides, stopOnTeardown: false });
  const { accounts, notifier, smsReplies } = first.platform.services;
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob' });
  t.equal(await smsReplies.hasLiveCodes(), false);
  t.equal(centre.connections, 0, 'no bind while there is no code');
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
  const page = { alertId, userId: bob.id, sessionId: 's1', phone: '+15550104444', senderName: 'Alice' };
  const code = await smsReplies.codeFor(page);
  t.match(code, /^\d{4}$/);
  t.equal(await smsReplies.codeFor(page), code, 'the same page again: the same code');
  t.not(await smsReplies.codeFor({ ...page, phone: '+15550105555' }), undefined);
  await eventually(() => {
    if (centre.receivers !== 1) throw new Error('not bound');
  });
  await first.platform.stop();
  await eventually(() => {
    if (centre.receivers !== 0) throw new Error('still bound');
  });

  const second = await startPlatform(t, { dir, overrides });
  t.ok(second.platform.isReady);
  await eventually(() => {
    if (centre.receivers !== 1) throw new Error('not bound after the restart');
  });
});
