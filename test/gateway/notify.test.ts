/**
 * A local user with no link, written to from XMPP, is reached by the
 * notifier like for any message: a reverse log-on call that names the XMPP
 * user; accepting puts the callee in the chat, and the answer reaches XMPP.
 */
import t from 'tap';
import { eventually } from '../support/env.js';
import { prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';
import { ivrOnSimulator, Transcript } from '../ivr/support/sim-harness.js';

t.setTimeout(120_000);

t.test('Dave writes from XMPP to Bob, who is nowhere: Bob is called back, hears who wants to chat', async (t) => {
  const prosody = await prosodyFor(t, { users: ['dave'] });
  if (!prosody) return;
  const { platform, sim, audio, bob } = await ivrOnSimulator(t, {
    gateway: gatewaySection(prosody),
    notify: { collectDelaySeconds: 0 },
  });
  const { presence, accounts } = platform.services;
  const gateway = platform.services.gateway;
  if (!gateway) throw new Error('no gateway');
  await accounts.addDevice('bob', { kind: 'phone', address: '+15550100199' });
  const callee = sim.setCallee('+15550100199', { behavior: 'answer' });
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('gateway not online');
  });
  const dave = await XmppUser.connect(prosody, 'dave');
  t.teardown(() => dave.stop());
  await dave.send(xml('presence', { type: 'subscribe', to: jidOn('bob') }));
  const req = await eventually(async () => {
    const r = (await presence.contactRequests(bob.id))[0];
    if (!r) throw new Error('no request yet');
    return r;
  });
  await presence.approveContact(bob.id, req.fromUserId);
  await dave.next((s) => s.attrs.type === 'subscribed');

  await dave.chat(jidOn('bob'), 'Are you free for a call?');
  const caller = await callee.nextCall(20_000);
  const call = new Transcript(caller, audio);
  await call.hears(/^Hello\. dave at example\.test wants to chat with you\.$/);
  await call.hears(/^Are you free for a call\?$/);
  await call.hears(/^Press 1 to accept/);
  await caller.pressKeys('1');
  await call.hears(/^You are in a chat with dave at example\.test\.$/);
  await dave.next(
    (s) => s.name === 'presence' && s.attrs.from?.startsWith(jidOn('bob')) === true && s.getChildText('show') === 'dnd',
  );
  t.pass('Dave sees Bob on the phone once he accepts');
  await dave.chat(jidOn('bob'), 'Great, talk soon.');
  await call.hears(/^dave at example\.test says: Great, talk soon\.$/);
  await caller.hangup();
});
