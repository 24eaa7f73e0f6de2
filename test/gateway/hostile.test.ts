/**
 * What outside XMPP users (and a broken server) may send the gateway: a
 * stanza flood, oversized stanzas, malformed XML, unknown JIDs and spoofed
 * 'from' addresses are refused or ignored with a log line, and change nothing.
 */
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { Platform } from '../../src/app.js';
import type { Element } from '@xmpp/xml';
import { capturedLog, eventually, testConfig } from '../support/env.js';
import { makeUsers } from '../support/presence.js';
import { COMPONENT_DOMAIN, prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';

t.setTimeout(120_000);

const logged = (lines: Record<string, unknown>[], code: string) => lines.filter((l) => l.code === code);
const errorOf = (s: Element) => s.getChild('error')?.children.find((c) => typeof c !== 'string')?.name;

t.test('floods, oversized stanzas, unknown JIDs, strangers, bad XML and spoofed senders change nothing', async (t) => {
  const prosody = await prosodyFor(t, { users: ['dave', 'erin', 'mallory'] });
  if (!prosody) return;
  const { lines, log } = capturedLog();
  const platform = new Platform({
    config: testConfig(t.testdir({}), { gateway: gatewaySection(prosody, { maxStanzasPerSecond: 15 }) }),
    log,
  });
  t.teardown(() => platform.stop());
  await platform.start();
  const gateway = platform.services.gateway;
  if (!gateway) throw new Error('no gateway');
  const { presence } = platform.services;
  const { alice } = await makeUsers(platform, ['alice']);
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('gateway not online');
  });
  const stored = async () => (await presence.unread(alice)).length;
  /** Messages stored from one XMPP user (the flood's stragglers do not count against the others). */
  const storedFrom = async (jid: string) => {
    const shadow = (await presence.contacts(alice)).find((c) => c.displayName === jid)?.userId;
    return (await presence.unread(alice)).filter((m) => m.fromUserId === shadow).length;
  };

  // Dave and Erin become Alice's contacts (she approves whoever asks, through the presence service).
  const contactOf = async (u: XmppUser) => {
    await u.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
    const req = await eventually(async () => {
      const r = (await presence.contactRequests(alice)).find((x) => x.displayName === u.jid);
      if (!r) throw new Error('no request yet');
      return r;
    });
    await presence.approveContact(alice, req.fromUserId);
    await u.next((s) => s.attrs.type === 'subscribed');
  };
  const dave = await XmppUser.connect(prosody, 'dave');
  const erin = await XmppUser.connect(prosody, 'erin');
  const mallory = await XmppUser.connect(prosody, 'mallory');
  t.teardown(() => Promise.all([dave.stop(), erin.stop(), mallory.stop()]));
  await contactOf(dave);
  await contactOf(erin);

  t.test('a flood from one JID: at most the rate gets through, the rest is dropped and logged', async (t) => {
    const started = Date.now();
    const n = 80;
    for (let i = 0; i < n; i++)
      await dave.chat(jidOn('alice'), `flood ${i}`, [xml('request', { xmlns: 'urn:xmpp:receipts' })], `f${i}`);
    await eventually(() => {
      if (logged(lines, 'GATEWAY_RATE_LIMITED').length === 0) throw new Error('no log line yet');
    });
    const receipts = () => dave.stanzas.filter((s) => s.getChild('received', 'urn:xmpp:receipts')).length;
    await eventually(async () => {
      const s = await stored();
      if (receipts() === 0 || receipts() !== s) throw new Error(`${receipts()} receipts, ${s} stored`);
    });
    const allowed = 15 + Math.ceil(((Date.now() - started) / 1000) * 15);
    const s = await stored();
    t.ok(s > 0 && s <= allowed, `${s} of ${n} stored (at most ${allowed} allowed)`);
    t.equal(logged(lines, 'GATEWAY_RATE_LIMITED')[0]?.from, 'dave@example.test', 'the log names the JID');
  });

  t.test('an oversized body and an oversized stanza are refused with an error, nothing stored', async (t) => {
    const before = await storedFrom(erin.jid);
    await erin.chat(jidOn('alice'), 'x'.repeat(9000), [], 'big-body');
    const e1 = await erin.next((s) => s.attrs.type === 'error' && s.attrs.id === 'big-body');
    t.equal(errorOf(e1), 'policy-violation');
    await erin.chat(jidOn('alice'), 'y'.repeat(70_000), [], 'big-stanza');
    const e2 = await erin.next((s) => s.attrs.type === 'error' && s.attrs.id === 'big-stanza');
    t.equal(errorOf(e2), 'policy-violation');
    t.equal(logged(lines, 'GATEWAY_STANZA_TOO_LARGE').length, 2, 'each logged');
    t.equal(await storedFrom(erin.jid), before, 'nothing stored');
  });

  t.test('unknown JIDs and strangers get XMPP errors and a log line', async (t) => {
    const before = await storedFrom(erin.jid);
    await erin.chat(`nobody@${COMPONENT_DOMAIN}`, 'hello?', [], 'u1');
    t.equal(errorOf(await erin.next((s) => s.attrs.type === 'error' && s.attrs.id === 'u1')), 'item-not-found');
    const shadow = (await presence.contacts(alice)).find((c) => c.displayName === 'dave@example.test');
    await erin.chat(`${shadow?.username}@${COMPONENT_DOMAIN}`, 'to a shadow account', [], 'u2');
    t.equal(
      errorOf(await erin.next((s) => s.attrs.type === 'error' && s.attrs.id === 'u2')),
      'item-not-found',
      "an outside contact's shadow account has no JID on the gateway",
    );
    await mallory.chat(jidOn('alice'), 'let me in', [], 'u3');
    t.equal(
      errorOf(await mallory.next((s) => s.attrs.type === 'error' && s.attrs.id === 'u3')),
      'subscription-required',
      'a stranger must ask first',
    );
    await erin.chat(jidOn('alice'), '  \n  ', [], 'u4');
    t.equal(
      errorOf(await erin.next((s) => s.attrs.type === 'error' && s.attrs.id === 'u4')),
      'not-acceptable',
      'a body the message cache refuses is refused',
    );
    t.equal(logged(lines, 'PRESENCE_INVALID_INPUT').length, 1, 'with the presence server’s code');
    await mallory.send(xml('presence', { to: jidOn('alice') }, xml('show', {}, 'chat')));
    await erin.send(xml('message', { type: 'error', to: jidOn('alice'), id: 'e1' }, xml('error', { type: 'cancel' })));
    await eventually(() => {
      if (!lines.some((l) => l.msg === 'XMPP error for a message we sent')) throw new Error('not yet');
    });
    t.notOk(
      (await presence.contacts(alice)).some((c) => c.displayName === 'mallory@example.test'),
      'presence from a stranger adds nothing',
    );
    t.equal(logged(lines, 'GATEWAY_UNKNOWN_USER').length, 2);
    t.equal(logged(lines, 'GATEWAY_NOT_SUBSCRIBED').length, 1);
    t.equal(await storedFrom(erin.jid), before, 'nothing stored');
  });

  t.test("a spoofed 'from' never gets through, and the gateway drops its own domain as a sender", async (t) => {
    const before = (await storedFrom(erin.jid)) + (await storedFrom(dave.jid));
    const n = await stored();
    await mallory.send(
      xml('message', { type: 'chat', to: jidOn('alice'), from: 'dave@example.test' }, xml('body', {}, 'I am Dave')),
    );
    await erin.chat(jidOn('alice'), 'a real one');
    await eventually(async () => {
      if ((await storedFrom(erin.jid)) + (await storedFrom(dave.jid)) === before) throw new Error('not yet');
    });
    t.same(
      (await presence.unread(alice)).slice(n).map((m) => m.text),
      ['a real one'],
      "Prosody's stamp wins: Mallory's message as Dave is not Dave's",
    );
    // A server that forwards a stanza claiming our own domain (a loop, or a forged one) is ignored.
    const receive = (gateway as unknown as { receive(s: Element): Promise<void> }).receive.bind(gateway);
    await receive(
      xml('message', { from: `alice@${COMPONENT_DOMAIN}`, to: jidOn('alice'), type: 'chat' }, xml('body', {}, 'loop')),
    );
    await receive(xml('message', { from: 'not a jid', to: jidOn('alice') }, xml('body', {}, 'junk')));
    t.equal(logged(lines, 'GATEWAY_SPOOFED_FROM').length, 2, 'each logged');
    t.equal(await stored(), n + 1, 'nothing more stored');
  });

  t.test('malformed XML from a client ends only that client; the gateway goes on', async (t) => {
    const closed = new Promise<void>((resolve) => mallory.xmpp.once('disconnect', () => resolve()));
    await mallory.xmpp.write(`<message to='${jidOn('alice')}'><body>oops</bod></message>`);
    await closed;
    t.pass("Prosody closed Mallory's stream");
    t.ok(gateway.isConnected, 'the gateway is still online');
    const before = await storedFrom(erin.jid);
    await erin.chat(jidOn('alice'), 'still here');
    await eventually(async () => {
      if ((await storedFrom(erin.jid)) !== before + 1) throw new Error('not yet');
    });
  });
});

t.test('a server that answers malformed XML: the gateway logs it and keeps retrying, with backoff', async (t) => {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.end('<stream:stream xmlns="jabber:component:accept" <<< not xml >>>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const { lines, log } = capturedLog();
  const platform = new Platform({
    config: testConfig(t.testdir({}), {
      gateway: {
        xmpp: { port, domain: COMPONENT_DOMAIN, secret: 'some-secret-1', reconnectMinMs: 50, reconnectMaxMs: 400 },
      },
    }),
    log,
  });
  t.teardown(async () => {
    await platform.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  await platform.start();
  await eventually(() => {
    if (sockets.length < 4) throw new Error(`${sockets.length} connections`);
  });
  const downs = lines.filter((l) => l.msg === 'XMPP component down');
  t.ok(downs.length >= 3, 'each failure logged');
  const waits = downs.map((l) => Number(l.retryInMs));
  t.ok((waits[2] ?? 0) > (waits[0] ?? 0), `the wait grows: ${waits.join(', ')} ms`);
  t.notOk(
    lines.some((l) => JSON.stringify(l).includes('some-secret-1')),
    'the component secret is never logged',
  );
  t.equal(platform.services.gateway?.isConnected, false);
});
