/**
 * The demo's captured mailbox: what the notifier sends in `make run` can be
 * read in a browser. Driven as a person and a mail client would: the web API
 * to post, HTTP to read the mailbox page, SMTP and SNPP on the wire.
 */
import { connect } from 'node:net';
import { createTransport } from 'nodemailer';
import t from 'tap';
import { Platform } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import { DevMailbox, startDemoMailbox } from '../../src/dev/mailbox.js';
import { tryItBlock } from '../../src/dev/try-it.js';
import { DEMO_PASSWORD } from '../../src/ivr/demo.js';
import { phonectl } from '../support/cli.js';
import { eventually, testConfig } from '../support/env.js';

const text = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

t.test(
  'demo: a message for Bob, who has no link, is paged and mailed, and both can be read in the mailbox',
  async (t) => {
    const dir = t.testdir({});
    const config = testConfig(dir, {
      demo: true,
      devMailbox: { port: 0 },
      notify: { collectDelaySeconds: 0, waitAfterPageSeconds: 0, ladderKinds: ['pager', 'email'], pollSeconds: 1 },
    });
    const demo = await startDemoMailbox(config, silentLogger());
    const mailbox = demo.mailbox as DevMailbox;
    t.ok(mailbox, 'demo mode with no mail relay or paging carrier configured: the mailbox is started');
    t.teardown(() => mailbox.close());
    t.equal(demo.config.notify.smtp.port, mailbox.smtpPort, 'the notifier mails the mailbox');
    t.equal(demo.config.notify.snpp.port, mailbox.snppPort, 'and pages it');
    const platform = new Platform({ config: demo.config, log: silentLogger() });
    t.teardown(() => platform.stop());
    const url = await platform.start();

    const empty = await text(`${mailbox.url}/`);
    t.equal(empty.status, 200);
    t.match(empty.type, /^text\/html/);
    t.match(empty.body, /No mail yet\.[\s\S]*No pages yet\./);

    // The demo's own messages for Bob, who has no device yet, end their alert first: there is nothing to reach him by.
    // (Else the devices added below reach that alert, and the page names the demo's first message, not this one.)
    await eventually(
      async () => {
        const alerts = await platform.services.notifier.list({ user: 'bob' });
        const open = alerts.filter((a) => a.state === 'collecting' || a.state === 'running');
        if (alerts.length === 0 || open.length > 0) throw new Error(`${alerts.length} alert(s), ${open.length} open`);
      },
      { timeoutMs: 20_000 },
    );
    const admin = phonectl(dir);
    t.equal((await admin(['device', 'add', 'bob', 'pager', 'P-17', '--protocol', 'snpp'])).code, 0);
    t.equal((await admin(['device', 'add', 'bob', 'email', 'bob@example.com'])).code, 0);

    // Alice, on the web, writes to Bob in their chat.
    const login = await fetch(`${url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: DEMO_PASSWORD }),
    });
    t.equal(login.status, 201, 'the demo password in the README logs Alice in');
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const sessions = (await (await fetch(`${url}/api/v1/sessions`, { headers: auth })).json()) as {
      sessions: { id: string }[];
    };
    const sessionId = sessions.sessions[0]?.id as string;
    const posted = await fetch(`${url}/api/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Lunch moved to 1 pm <by the window> & bring the slides' }),
    });
    t.equal(posted.status, 201);

    const index = await eventually(
      async () => {
        const page = await text(`${mailbox.url}/`);
        if (!/bob@example\.com/.test(page.body) || !/P-17/.test(page.body)) throw new Error('not there yet');
        return page.body;
      },
      { timeoutMs: 20_000 },
    );
    t.match(
      index,
      /<h2>Pager messages \(\d+\)<\/h2>[\s\S]*<td>P-17<\/td><td>[^<]*Alice[^<]*Lunch moved to 1 pm &lt;by the window&gt; &amp;/,
    );
    const link = /<a href="(\/mail\/\d+)">([^<]+)<\/a>/.exec(index);
    t.ok(link, 'the mail is listed with a link');
    t.match(link?.[2], /Alice/, 'its subject names the sender');
    const mail = await text(`${mailbox.url}${link?.[1]}`);
    t.equal(mail.status, 200);
    t.match(mail.body, /<dt>To<\/dt><dd>bob@example\.com<\/dd>/);
    t.match(mail.body, /<pre>[\s\S]*Lunch moved to 1 pm &lt;by the window&gt; &amp; bring the slides[\s\S]*<\/pre>/);
    t.notMatch(mail.body, /<by the window>/, 'what a sender wrote is never markup');
    t.match(mail.body, new RegExp(`<a href="${url}/[^"]+">${url}/`), 'the reply link can be clicked');
    t.equal((await text(`${mailbox.url}/mail/999999`)).status, 404);
    t.equal((await fetch(`${mailbox.url}/`, { method: 'POST' })).status, 405);
  },
);

t.test('a mail with an attachment: listed, shown, and the attachment downloads as sent', async (t) => {
  const mailbox = await new DevMailbox({ host: '127.0.0.1', port: 0, maxMessages: 2 }, silentLogger()).start();
  t.teardown(() => mailbox.close());
  const transport = createTransport({ host: '127.0.0.1', port: mailbox.smtpPort, secure: false });
  t.teardown(() => transport.close());
  const audio = Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 1, 2, 3, 4, 5]);
  await transport.sendMail({
    from: 'Alice via Phone IM <notify@localhost>',
    to: 'bob@example.com',
    subject: 'A voice message from Alice',
    text: 'Alice left you a voice message (attached).',
    attachments: [{ filename: 'voice message.mp3', content: audio, contentType: 'audio/mpeg' }],
  });
  const index = (await text(`${mailbox.url}/`)).body;
  t.match(index, /<a href="\/mail\/(\d+)">A voice message from Alice<\/a><\/td>\s*<td>1<\/td>/);
  const id = /\/mail\/(\d+)/.exec(index)?.[1];
  const page = (await text(`${mailbox.url}/mail/${id}`)).body;
  t.match(page, /Alice left you a voice message \(attached\)\./);
  t.match(
    page,
    /<a href="\/mail\/\d+\/attachments\/0" download="voice message\.mp3">voice message\.mp3<\/a> \(audio\/mpeg, 10 B\)/,
  );
  const res = await fetch(`${mailbox.url}/mail/${id}/attachments/0`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'audio/mpeg');
  t.match(res.headers.get('content-disposition'), /^attachment; filename="voice message\.mp3"/);
  t.same(Buffer.from(await res.arrayBuffer()), audio);
  t.equal((await fetch(`${mailbox.url}/mail/${id}/attachments/1`)).status, 404);

  // Bounded: the oldest goes when more than maxMessages arrive.
  for (const n of [2, 3])
    await transport.sendMail({ from: 'a@localhost', to: 'b@localhost', subject: `n${n}`, text: 'x' });
  t.same(
    mailbox.mails.map((m) => m.subject),
    ['n2', 'n3'],
  );
});

t.test('the SNPP server speaks RFC 1861: PAGE, MESS, DATA, SEND, RESE, refusals', async (t) => {
  const mailbox = await new DevMailbox({ host: '127.0.0.1', port: 0, maxMessages: 10 }, silentLogger()).start();
  t.teardown(() => mailbox.close());
  const socket = connect(mailbox.snppPort, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.setEncoding('latin1');
  let got = '';
  socket.on('data', (d: string) => {
    got += d;
  });
  const said = async (line: string | undefined, reply: RegExp) => {
    const before = got.length;
    if (line !== undefined) socket.write(`${line}\r\n`);
    await eventually(() => {
      if (!reply.test(got.slice(before))) throw new Error(`no ${reply} after ${line}: ${got}`);
    });
  };
  await said(undefined, /^220 /);
  await said('SEND', /^503 /);
  await said('PAGE bad*id', /^550 /);
  await said('PAGE P-1', /^250 /);
  await said('MESS hello there', /^250 /);
  await said('MESS again', /^503 /);
  await said('LOGI x y', /^500 /);
  await said('SEND', /^250 /);
  await said('PAGE P-2', /^250 /);
  await said('DATA', /^354 /);
  await said('line one\r\n..dotted\r\n.', /^250 /);
  await said('RESE', /^250 /);
  await said('SEND', /^503 /);
  await said('PAGE P-2', /^250 /);
  await said('DATA', /^354 /);
  await said('two\r\n.', /^250 /);
  await said('SEND', /^250 /);
  await said('HELP', /^214 [\s\S]*250 /);
  await said('QUIT', /^221 /);
  t.same(
    mailbox.pages.map((p) => [p.pagerId, p.text]),
    [
      ['P-1', 'hello there'],
      ['P-2', 'two'],
    ],
  );
  const page = (await text(`${mailbox.url}/`)).body;
  t.match(page, /<td>P-1<\/td><td>hello there<\/td>/);
});

t.test(
  'the mailbox stays out of the way when the config names a mail relay and a carrier, or outside demo mode',
  async (t) => {
    const dir = t.testdir({});
    const configured = testConfig(dir, { demo: true, notify: { smtp: { port: 2525 }, snpp: { port: 4444 } } });
    const r = await startDemoMailbox(configured, silentLogger());
    t.equal(r.mailbox, undefined);
    t.equal(r.config, configured);
    const notDemo = testConfig(dir);
    t.equal((await startDemoMailbox(notDemo, silentLogger())).mailbox, undefined);
  },
);

t.test('the try-it block: plain lines with the URLs, the accounts and curl commands that place a call', async (t) => {
  const block = tryItBlock({
    url: 'http://127.0.0.1:8080',
    sim: { ariUrl: 'http://127.0.0.1:8088', controlUrl: 'http://127.0.0.1:8089', controlToken: 'tok-123' },
    mailboxUrl: 'http://127.0.0.1:8025',
  });
  t.match(block, /Web client\s+http:\/\/127\.0\.0\.1:8080\/login/);
  t.match(block, /Mailbox\s+http:\/\/127\.0\.0\.1:8025\//);
  t.match(block, /bob\s+demo-password\s+\+15550100101\s+100001\s+2468/);
  t.match(block, /alice\s+demo-password\s+\+15550100102\s+100002\s+1357/);
  t.match(block, /CONTROL=http:\/\/127\.0\.0\.1:8089\n\s+TOKEN=tok-123\n/);
  t.match(
    block,
    /curl -s -X POST \$CONTROL\/sim\/calls -H "authorization: Bearer \$TOKEN" -H 'content-type: application\/json' -d '\{"from":"\+15550100101","to":"100"\}'/,
  );
  t.notMatch(block, /\\"/, 'nothing JSON-escaped');
  const noToken = tryItBlock({ url: 'http://127.0.0.1:8080', sim: { ariUrl: 'a', controlUrl: 'http://c' } });
  t.notMatch(noToken, /TOKEN|authorization/);
  t.notMatch(tryItBlock({ url: 'http://x' }), /curl|Mailbox/);
});
