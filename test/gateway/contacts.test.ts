/**
 * Contacts the other way round: a local user adds an XMPP user, follows their
 * presence (away, busy, gone), and is dropped when they unsubscribe; the
 * component answers service discovery.
 */
import t from 'tap';
import { isAppError } from '../../src/core/errors.js';
import { parseJid } from '../../src/gateway/xmpp-gateway.js';
import { eventually } from '../support/env.js';
import { makeUsers, startPlatform } from '../support/presence.js';
import { COMPONENT_DOMAIN, prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';

t.setTimeout(120_000);

t.test('JIDs are parsed strictly', async (t) => {
  t.same(parseJid('Dave@Example.TEST/Phone'), {
    local: 'dave',
    domain: 'example.test',
    resource: 'Phone',
    bare: 'dave@example.test',
  });
  t.equal(parseJid('example.test')?.bare, 'example.test');
  for (const bad of ['', 'a@b@c', 'dave@', '@example.test', 'dave@exa mple', 'dave@-x.', 42, undefined])
    t.equal(parseJid(bad), null, `${String(bad)} is refused`);
});

t.test('Alice adds Erin on XMPP, follows her presence, and loses her when Erin unsubscribes', async (t) => {
  const prosody = await prosodyFor(t, { users: ['erin'] });
  if (!prosody) return;
  const { platform } = await startPlatform(t, { overrides: { gateway: gatewaySection(prosody) } });
  const gateway = platform.services.gateway;
  if (!gateway) throw new Error('no gateway');
  const { presence } = platform.services;
  const { alice } = await makeUsers(platform, ['alice']);
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('gateway not online');
  });
  const erin = await XmppUser.connect(prosody, 'erin');
  t.teardown(() => erin.stop());

  for (const bad of ['erin', 'erin@example.test/phone', `x@${COMPONENT_DOMAIN}`]) {
    const refused = await gateway.subscribe(alice, bad).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(isAppError(refused, 'GATEWAY_INVALID_JID'), `${bad} is not an outside user`);
  }

  t.equal(await gateway.subscribe(alice, 'Erin@example.test'), 'requested', 'Alice asks');
  await erin.next((s) => s.attrs.type === 'subscribe' && s.attrs.from === jidOn('alice'));
  t.pass('Erin is asked by alice@phone.example.test (and her client says yes)');
  const erinContact = async () => (await presence.contacts(alice)).find((c) => c.displayName === 'erin@example.test');
  await eventually(async () => {
    if ((await erinContact())?.subscription !== 'approved') throw new Error('not approved yet');
  });
  t.pass('Erin is now on Alice’s buddy list');

  const seen = async (state: string, statusText: string | null) => {
    await eventually(async () => {
      const p = (await erinContact())?.presence;
      if (p?.state !== state || p.statusText !== statusText) throw new Error(`Erin is ${JSON.stringify(p)}`);
    });
    t.pass(`Alice sees Erin ${state}${statusText ? ` (${statusText})` : ''}`);
  };
  await erin.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'Out to lunch')));
  await seen('away', 'Out to lunch');
  await erin.send(xml('presence', {}, xml('show', {}, 'dnd')));
  await seen('busy', null);
  await erin.send(xml('presence', { type: 'unavailable' }));
  await seen('offline', null);

  const info = await erin.xmpp.iqCaller.get(
    xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
    COMPONENT_DOMAIN,
  );
  const identity = info.getChild('identity');
  t.equal(identity?.attrs.category, 'gateway', 'the component says it is a gateway');
  t.ok(
    info.getChildren('feature').some((f) => f.attrs.var === 'urn:xmpp:receipts'),
    'with delivery receipts among its features',
  );

  await erin.send(xml('presence', { type: 'subscribe', to: `nobody@${COMPONENT_DOMAIN}` }));
  await erin.next((s) => s.attrs.type === 'unsubscribed' && s.attrs.from === `nobody@${COMPONENT_DOMAIN}`);
  t.pass('asking for an unknown user is answered "unsubscribed"');

  const answered = erin.stanzas.length;
  await erin.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
  await erin.next(
    (s) => s.attrs.type === 'subscribed' && s.attrs.from === jidOn('alice') && erin.stanzas.indexOf(s) >= answered,
  );
  t.pass('asking again once approved is answered at once');

  await erin.send(xml('presence', { type: 'unsubscribe', to: jidOn('alice') }));
  await eventually(async () => {
    if (await erinContact()) throw new Error('still a contact');
  });
  t.pass('Erin unsubscribed: she is gone from Alice’s list');
});
