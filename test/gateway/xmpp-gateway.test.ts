/**
 * The XMPP gateway from the outside: a real Prosody on loopback, an XMPP user
 * on @xmpp/client, web users through the JSON API and WebSocket, and a phone
 * user calling in through the softswitch simulator.
 */
import { join } from 'node:path';
import t from 'tap';
import { parseWav } from '../../src/sim/wav.js';
import { eventually, ROOT } from '../support/env.js';
import { ApiClient, WsClient } from '../support/presence.js';
import { COMPONENT_DOMAIN, prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';
import { ivrOnSimulator, Transcript } from '../ivr/support/sim-harness.js';

t.setTimeout(120_000);

const REPLY_WAV = join(ROOT, 'test/fixtures/ivr/reply.wav');
const from = (s: { attrs: Record<string, string | undefined> }) => s.attrs.from?.split('/')[0];

t.test('Dave on XMPP adds Alice (web) and Bob (phone), sees Bob on the phone, chats with both', async (t) => {
  const prosody = await prosodyFor(t, { users: ['dave'] });
  if (!prosody) return;
  const { platform, url, sim, audio, bob, alice } = await ivrOnSimulator(t, { gateway: gatewaySection(prosody) });
  const gateway = platform.services.gateway;
  if (!gateway) throw new Error('no gateway');
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('gateway not online');
  });
  const dave = await XmppUser.connect(prosody, 'dave');
  t.teardown(() => dave.stop());

  // Dave asks to add Alice; Alice sees the request on the web and approves it.
  await dave.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
  const aliceApi = await ApiClient.login(url, 'alice');
  const request = await eventually(async () => {
    const r = await aliceApi.call('GET', '/api/v1/contacts');
    const req = (r.body as { requests: { fromUserId: number; displayName: string }[] }).requests[0];
    if (!req) throw new Error('no request yet');
    return req;
  });
  t.equal(request.displayName, 'dave@example.test', 'Alice sees who asks: his JID');
  t.notOk(
    dave.stanzas.some((s) => s.attrs.type === 'subscribed'),
    'no subscription before the local user approves',
  );
  const approved = await aliceApi.call('POST', `/api/v1/contacts/${request.fromUserId}/approve`);
  t.equal(approved.status, 200);
  await dave.next((s) => s.name === 'presence' && s.attrs.type === 'subscribed' && from(s) === jidOn('alice'));
  t.pass('Dave is told Alice approved');
  await dave.next((s) => s.name === 'presence' && s.attrs.type === 'subscribe' && from(s) === jidOn('alice'));
  t.pass('and Alice asks back (a buddy list both ways)');

  // Alice comes online on her WebSocket: Dave sees it; Dave's own presence shows on Alice's list.
  const aliceWs = await WsClient.connect(url, aliceApi.token);
  t.teardown(() => aliceWs.close());
  await dave.next((s) => s.name === 'presence' && s.attrs.type === undefined && from(s) === jidOn('alice'));
  t.pass('Dave sees Alice available');
  await eventually(async () => {
    const r = await aliceApi.call('GET', '/api/v1/contacts');
    const c = (r.body as { contacts: { displayName: string; presence: { state: string } }[] }).contacts.find(
      (x) => x.displayName === 'dave@example.test',
    );
    if (c?.presence.state !== 'online') throw new Error(`Dave is ${c?.presence.state}`);
  });
  t.pass('Alice sees Dave online');

  // Dave writes to Alice, asking for a receipt; Alice's WebSocket gets it.
  await dave.chat(
    jidOn('alice'),
    'Hello Alice, from XMPP',
    [xml('request', { xmlns: 'urn:xmpp:receipts' }), xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })],
    'dave-1',
  );
  const got = await aliceWs.next((f) => f.type === 'message');
  const message = got.message as { text: string; sessionId: string; fromUserId: number };
  t.equal(message.text, 'Hello Alice, from XMPP', 'the text arrives as a session message');
  const receipt = await dave.next(
    (s) => s.name === 'message' && s.getChild('received', 'urn:xmpp:receipts') !== undefined,
  );
  t.equal(receipt.getChild('received', 'urn:xmpp:receipts')?.attrs.id, 'dave-1', 'a delivery receipt for his message');

  // Alice accepts and answers: Dave gets it from alice@phone.example.test, with a chat state (he uses them).
  t.equal((await aliceApi.call('POST', `/api/v1/sessions/${message.sessionId}/accept`)).status, 200);
  const sent = await aliceApi.call('POST', `/api/v1/sessions/${message.sessionId}/messages`, { text: 'Hi Dave!' });
  t.equal(sent.status, 201);
  const answer = await dave.next((s) => s.name === 'message' && s.getChildText('body') === 'Hi Dave!');
  t.equal(from(answer), jidOn('alice'), 'from her JID on the gateway');
  t.ok(answer.getChild('active', 'http://jabber.org/protocol/chatstates'), 'with a chat state');

  // Dave adds Bob; Bob approves on the web.
  await dave.send(xml('presence', { type: 'subscribe', to: jidOn('bob') }));
  const bobApi = await ApiClient.login(url, 'bob');
  const bobReq = await eventually(async () => {
    const r = await bobApi.call('GET', '/api/v1/contacts');
    const req = (r.body as { requests: { fromUserId: number }[] }).requests[0];
    if (!req) throw new Error('no request yet');
    return req;
  });
  await bobApi.call('POST', `/api/v1/contacts/${bobReq.fromUserId}/approve`);
  await dave.next((s) => s.attrs.type === 'subscribed' && from(s) === jidOn('bob'));

  // Dave writes (to Bob's number: the same user) while Bob is away from any phone; Bob calls in and hears it.
  await dave.chat(`15550101@${COMPONENT_DOMAIN}`, 'Meet me at the station at nine.');
  const waiting = await eventually(async () => {
    const unread = await platform.services.presence.unread(bob.id);
    if (unread.length === 0) throw new Error('not stored yet');
    return unread;
  });
  t.same(
    waiting.map((m) => m.text),
    ['Meet me at the station at nine.'],
    'it waits in the message cache',
  );
  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, audio);
  await call.hears(/^Welcome back, Bob\. Please enter your PIN/);
  await caller.pressKeys('2468#');
  const onPhone = await dave.next(
    (s) => s.name === 'presence' && from(s) === jidOn('bob') && s.getChildText('show') === 'dnd',
  );
  t.match(onPhone.getChildText('status'), /on the phone/i, 'Dave sees Bob "on the phone" while he is in a call');
  await call.hears(/^You have 1 new message\.$/);
  t.match(await call.hears(/^From dave/), /^From dave at example\.test/, 'the envelope names Dave by his JID');
  await call.hears(/^Meet me at the station at nine\.$/);
  await call.hears(/^Press 1 to hear it again, 5 to reply/);
  await caller.pressKeys('5');
  await call.hears(/^Record your reply after the tone/);
  await caller.speak(REPLY_WAV);
  await caller.pressKeys('#');
  await call.hears(/^Press 1 to send it/);
  await caller.pressKeys('1');
  await call.hears(/^Your reply was sent\.$/);

  const voice = await dave.next(
    (s) => s.name === 'message' && from(s) === jidOn('bob') && !!s.getChild('x', 'jabber:x:oob'),
  );
  t.match(voice.getChildText('body'), /voice message from bob/i, 'a line of text says it is a voice message');
  const link = voice.getChild('x', 'jabber:x:oob')?.getChildText('url') ?? '';
  t.ok(link.startsWith(url), 'with an out-of-band link to the audio server');
  const res = await fetch(link);
  t.equal(res.status, 200, 'the link serves');
  t.ok(parseWav(Buffer.from(await res.arrayBuffer())), 'the recorded audio');

  await caller.pressKeys('*9');
  await call.hears(/^Goodbye\.$/);
  await dave.next(
    (s) =>
      s.name === 'presence' &&
      from(s) === jidOn('bob') &&
      s.attrs.type === 'unavailable' &&
      dave.stanzas.indexOf(s) > dave.stanzas.indexOf(onPhone),
  );
  t.pass('Bob hung up: Dave sees him go');
  t.same(
    (await platform.services.presence.contacts(alice.id)).map((c) => c.displayName).sort(),
    ['Bob', 'dave@example.test'],
    'an XMPP contact sits in the buddy list like any other',
  );
});
