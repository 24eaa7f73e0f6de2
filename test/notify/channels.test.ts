/** Each channel against a real server on loopback, and against peers that misbehave. */
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { openSmtpSocket, SmtpSender } from '../../src/notify/mailer.js';
import { PagerGateway } from '../../src/notify/pager.js';
import { sendSmppMessage } from '../../src/notify/smpp-client.js';
import { sendSnppPage } from '../../src/notify/snpp-client.js';
import { testConfig } from '../support/env.js';
import { startSmsCentre, startSmtp, startSnpp, until } from '../support/notify.js';

const ids = () => ({ messageId: '<x.1.1@phoneim.notify>', date: new Date(Date.UTC(2026, 0, 1, 9)) });

/** A TCP peer that plays a script: a greeting, then one reply per line it receives. */
async function fakePeer(
  greeting: string,
  replies: string[],
): Promise<{ port: number; got: string[]; close: () => Promise<void> }> {
  const got: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    if (greeting) s.write(greeting);
    let buf = '';
    let i = 0;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let n = buf.indexOf('\n'); n >= 0; n = buf.indexOf('\n')) {
        got.push(buf.slice(0, n).replace(/\r$/, ''));
        buf = buf.slice(n + 1);
        const r = replies[i++];
        if (r === undefined) s.end();
        else if (r !== '') s.write(r);
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

t.test('SNPP: the Debian server receives the page; CRLF in the text cannot add a command', async (t) => {
  const snpp = await startSnpp();
  t.teardown(() => snpp.close());
  const o = { host: '127.0.0.1', port: snpp.port, timeoutMs: 5000 };
  const r = await sendSnppPage(o, 'P-100', 'Alice: are you free?\r\nPAGE P-666\r\nMESS evil\r\nSEND');
  t.match(r, { status: 'delivered', detail: /^snpp: 250 / });
  // The server logs a page before it answers SEND; its log reaches us on its own pipe.
  await until(() => snpp.pages.length >= 1, 5000, 'the page in the server log');
  t.same(snpp.pages, [{ pager: 'P-100', mess: 'Alice: are you free? PAGE P-666 MESS evil SEND' }]);

  const refused = await sendSnppPage(o, 'reject-1', 'hello');
  t.match(refused, { status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail: /554/ });
  const badId = await sendSnppPage(o, 'P 1\r\nQUIT', 'hello');
  t.match(badId, { status: 'failed', code: 'NOTIFY_SNPP_REJECTED', detail: /bad pager id/ });
  t.equal(snpp.pages.length, 1, 'nothing else was paged');

  const accents = await sendSnppPage(o, 'P-101', 'Zoë: café à 3h');
  t.equal(accents.status, 'delivered');
  await until(() => snpp.pages.length >= 2, 5000, 'the second page in the server log');
  t.equal(snpp.pages[1]?.mess, 'Zoe: cafe a 3h', 'SNPP carries ASCII');
});

t.test('SNPP: peers that say try later, lie, or vanish', async (t) => {
  const busy = await fakePeer('421 Too busy, try later\r\n', []);
  t.teardown(busy.close);
  t.match(await sendSnppPage({ host: '127.0.0.1', port: busy.port, timeoutMs: 2000 }, 'P1', 'x'), {
    status: 'retry',
    code: 'NOTIFY_SNPP_UNAVAILABLE',
  });

  const liar = await fakePeer('220 ok\r\n', ['HTTP/1.1 200 OK\r\n']);
  t.teardown(liar.close);
  t.match(await sendSnppPage({ host: '127.0.0.1', port: liar.port, timeoutMs: 2000 }, 'P1', 'x'), {
    status: 'failed',
    code: 'NOTIFY_SNPP_PROTOCOL',
  });

  const odd = await fakePeer('220 ok\r\n', ['250 ok\r\n', '250 ok\r\n', '330 what\r\n']);
  t.teardown(odd.close);
  t.match(await sendSnppPage({ host: '127.0.0.1', port: odd.port, timeoutMs: 2000 }, 'P1', 'x'), {
    status: 'failed',
    code: 'NOTIFY_SNPP_PROTOCOL',
  });

  // The server takes SEND and then says nothing: the page may have gone out, so it is not retried.
  const mute = await fakePeer('220-multi\r\n220 ok\r\n', ['250 ok\r\n', '250 ok\r\n', '']);
  t.teardown(mute.close);
  const r = await sendSnppPage({ host: '127.0.0.1', port: mute.port, timeoutMs: 300 }, 'P1', 'x');
  t.match(r, { status: 'failed', code: 'NOTIFY_SNPP_UNAVAILABLE', detail: /not retried/ });
  t.same(mute.got, ['PAGE P1', 'MESS x', 'SEND']);

  const closed = await fakePeer('', []);
  await closed.close();
  t.match(await sendSnppPage({ host: '127.0.0.1', port: closed.port, timeoutMs: 2000 }, 'P1', 'x'), {
    status: 'retry',
    code: 'NOTIFY_SNPP_UNAVAILABLE',
  });
});

t.test('SMPP: the SMS centre receives the message; a wrong password is refused', async (t) => {
  const smsc = await startSmsCentre();
  t.teardown(smsc.close);
  const cfg = testConfig(t.testdir({}), {
    notify: { smpp: { port: smsc.port, password: 'secret', sourceAddr: '15550100' } },
  }).notify;
  const r = await sendSmppMessage(cfg.smpp, '+15550100123', 'Alice: lunch? Call +1 555 0100 to listen and reply.');
  t.match(r, { status: 'delivered', detail: /accepted as m1/ });
  t.same(smsc.messages, [
    {
      systemId: 'phoneim',
      source: '15550100',
      destination: '15550100123',
      text: 'Alice: lunch? Call +1 555 0100 to listen and reply.',
    },
  ]);
  const wrong = await sendSmppMessage({ ...cfg.smpp, password: 'nope' }, '+15550100123', 'x');
  t.match(wrong, { status: 'failed', code: 'NOTIFY_SMPP_REJECTED', detail: /bind_transmitter refused/ });
  t.equal(smsc.messages.length, 1);

  const gone = await fakePeer('', []);
  await gone.close();
  t.match(await sendSmppMessage({ ...cfg.smpp, port: gone.port }, '+15550100123', 'x'), {
    status: 'retry',
    code: 'NOTIFY_SMPP_UNAVAILABLE',
  });
});

t.test('SMTP: delivered, refused for good, try later; no header injection', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const cfg = testConfig(t.testdir({}), {
    notify: { smtp: { port: smtp.port, from: 'Phone IM <notify@im.test>' } },
  }).notify;
  const sender = new SmtpSender(cfg.smtp);
  t.teardown(() => sender.close());
  const r = await sender.send({
    to: 'bob@example.com',
    fromName: 'Eve\r\nBcc: victim@example.com',
    subject: 'Hi\r\nBcc: victim2@example.com\nX-Evil: 1',
    text: 'body\n',
    ...ids(),
  });
  t.match(r, { status: 'delivered', detail: /^smtp: 250/ });
  const m = smtp.mails[0];
  t.ok(m);
  t.same(smtp.rcpt[0], ['bob@example.com'], 'only the recipient is in the envelope');
  t.equal(m?.subject, 'Hi Bcc: victim2@example.com X-Evil: 1');
  t.notOk(m?.headers.has('bcc'));
  t.notOk(m?.headers.has('x-evil'));
  t.equal(m?.from?.value[0]?.name, 'Eve Bcc: victim@example.com');
  t.equal(m?.from?.value[0]?.address, 'notify@im.test');
  t.equal(m?.messageId, '<x.1.1@phoneim.notify>');
  t.equal(m?.headers.get('auto-submitted'), 'auto-generated');

  smtp.failNext.push({ code: 550, message: 'No such user' }, { code: 451, message: 'Try again later' });
  t.match(await sender.send({ to: 'x@example.com', subject: 's', text: 't', ...ids() }), {
    status: 'failed',
    code: 'NOTIFY_SMTP_REJECTED',
    detail: /550/,
  });
  t.match(await sender.send({ to: 'x@example.com', subject: 's', text: 't', ...ids() }), {
    status: 'retry',
    code: 'NOTIFY_SMTP_UNAVAILABLE',
    detail: /451/,
  });

  const down = new SmtpSender({ ...cfg.smtp, port: 1, timeoutMs: 1000 });
  t.teardown(() => down.close());
  t.match(await down.send({ to: 'x@example.com', subject: 's', text: 't', ...ids() }), {
    status: 'retry',
    code: 'NOTIFY_SMTP_UNAVAILABLE',
  });
});

t.test('SMTP: the pool opens its connections itself, with Nagle off; a closed port is "try later"', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const socket = await openSmtpSocket('127.0.0.1', smtp.port, 1000);
  t.equal(socket.remotePort, smtp.port, 'connected to the relay');
  // Node keeps setNoDelay's state under this symbol; without it the relay's delayed ACK costs each mail ~40 ms.
  const noDelay = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  t.equal(noDelay && (socket as unknown as Record<symbol, unknown>)[noDelay], true, 'Nagle is off');
  socket.destroy();
  await t.rejects(openSmtpSocket('127.0.0.1', 1, 1000), /ECONNREFUSED/);
});

t.test('email-to-pager: a short plain email to the gateway address', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const cfg = testConfig(t.testdir({}), { notify: { smtp: { port: smtp.port } } }).notify;
  const sender = new SmtpSender(cfg.smtp);
  t.teardown(() => sender.close());
  const gw = new PagerGateway(cfg, sender);
  const r = await gw.page({ protocol: 'email', address: '5550100@pager.example.com' }, 'Alice: hi', ids());
  t.equal(r.status, 'delivered');
  t.equal(smtp.mails[0]?.text, 'Alice: hi\n');
  t.equal(smtp.mails[0]?.attachments.length, 0);
  t.same(smtp.rcpt[0], ['5550100@pager.example.com']);
});

t.test('SMTP: a relay that drops the line mid-message is not retried (it may have taken it)', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  smtp.onDataHook.fn = () => undefined; // takes the message, never answers
  const cfg = testConfig(t.testdir({}), { notify: { smtp: { port: smtp.port, timeoutMs: 300 } } }).notify;
  const sender = new SmtpSender(cfg.smtp);
  t.teardown(() => sender.close());
  t.match(await sender.send({ to: 'x@example.com', subject: 's', text: 't', ...ids() }), {
    status: 'failed',
    code: 'NOTIFY_SMTP_UNAVAILABLE',
    detail: /not retried/,
  });
  smtp.onDataHook.fn = undefined;
  const { smtpResult } = await import('../../src/notify/mailer.js');
  t.match(smtpResult(new Error('Greeting never received')), { status: 'retry' });
  t.match(smtpResult(Object.assign(new Error('x'), { responseCode: 421 })), { status: 'retry' });
});
