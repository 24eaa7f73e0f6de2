/**
 * The platform restarts on the same data: its XMPP contacts, their rosters
 * and sessions are kept, and the XMPP user is reached again.
 */
import t from 'tap';
import { eventually } from '../support/env.js';
import { ApiClient, makeUsers, startPlatform } from '../support/presence.js';
import { prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';

t.setTimeout(120_000);

t.test('after a platform restart Dave is still a contact, in the same session, and reached', async (t) => {
  const prosody = await prosodyFor(t, { users: ['dave'] });
  if (!prosody) return;
  const dir = t.testdir({});
  const first = await startPlatform(t, { dir, overrides: { gateway: gatewaySection(prosody) } });
  await makeUsers(first.platform, ['alice']);
  await eventually(() => {
    if (!first.platform.services.gateway?.isConnected) throw new Error('not online');
  });
  const dave = await XmppUser.connect(prosody, 'dave');
  t.teardown(() => dave.stop());
  await dave.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
  const api = await ApiClient.login(first.url, 'alice');
  const req = await eventually(async () => {
    const r = await api.call('GET', '/api/v1/contacts');
    const one = (r.body as { requests: { fromUserId: number }[] }).requests[0];
    if (!one) throw new Error('no request yet');
    return one;
  });
  await api.call('POST', `/api/v1/contacts/${req.fromUserId}/approve`);
  await dave.chat(jidOn('alice'), 'first');
  const sessionId = await eventually(async () => {
    const r = await api.call('GET', '/api/v1/sessions');
    const s = (r.body as { sessions: { id: string }[] }).sessions[0];
    if (!s) throw new Error('no session yet');
    return s.id;
  });
  await first.platform.stop();

  const again = await startPlatform(t, { dir, overrides: { gateway: gatewaySection(prosody) } });
  await eventually(() => {
    if (!again.platform.services.gateway?.isConnected) throw new Error('not online');
  });
  const api2 = await ApiClient.login(again.url, 'alice');
  const contacts = (await api2.call('GET', '/api/v1/contacts')).body as { contacts: { displayName: string }[] };
  t.same(
    contacts.contacts.map((c) => c.displayName),
    ['dave@example.test'],
    'Dave is still on the list',
  );
  t.equal((await api2.call('POST', `/api/v1/sessions/${sessionId}/accept`)).status, 200);
  t.equal((await api2.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'after a restart' })).status, 201);
  await dave.next((s) => s.getChildText('body') === 'after a restart');
  t.pass('Dave is reached after the platform restarted');
  await dave.chat(jidOn('alice'), 'second');
  await eventually(async () => {
    const texts = (await again.platform.services.presence.history(req.fromUserId, sessionId)).map((m) => m.text);
    if (!texts.includes('second')) throw new Error(texts.join(', '));
  });
  t.pass('and his next message lands in the same session');
});
