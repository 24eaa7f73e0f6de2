/**
 * Prosody restarted mid-conversation: the gateway reconnects by itself, and
 * what a web user sent meanwhile waits in the message cache and the gateway's
 * queue, then reaches the XMPP user once. `phonectl gateway status` shows it.
 */
import t from 'tap';
import { phonectl } from '../support/cli.js';
import { eventually } from '../support/env.js';
import { ApiClient, makeUsers, startPlatform } from '../support/presence.js';
import { prosodyFor } from '../support/prosody.js';
import { gatewaySection, jidOn, XmppUser, xml } from '../support/xmpp.js';

t.setTimeout(120_000);

t.test('Prosody restarts mid-conversation: the gateway reconnects and delivers, once', async (t) => {
  const prosody = await prosodyFor(t, { users: ['dave'] });
  if (!prosody) return;
  const dir = t.testdir({});
  const { platform, url } = await startPlatform(t, { dir, overrides: { gateway: gatewaySection(prosody) } });
  const gateway = platform.services.gateway;
  if (!gateway) throw new Error('no gateway');
  const ctl = phonectl(dir);
  const { alice } = await makeUsers(platform, ['alice']);
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('gateway not online');
  });

  let dave = await XmppUser.connect(prosody, 'dave');
  t.teardown(() => dave.stop());
  await dave.send(xml('presence', { type: 'subscribe', to: jidOn('alice') }));
  const api = await ApiClient.login(url, 'alice');
  const req = await eventually(async () => {
    const r = await api.call('GET', '/api/v1/contacts');
    const first = (r.body as { requests: { fromUserId: number }[] }).requests[0];
    if (!first) throw new Error('no request yet');
    return first;
  });
  await api.call('POST', `/api/v1/contacts/${req.fromUserId}/approve`);
  const created = await api.call('POST', '/api/v1/sessions', { invitees: [req.fromUserId] });
  t.equal(created.status, 201, 'Alice opens a session with Dave');
  const sessionId = (created.body as { id: string }).id;
  const say = async (text: string) =>
    t.equal((await api.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text })).status, 201, `Alice: ${text}`);
  await say('before');
  await dave.next((s) => s.getChildText('body') === 'before');

  const status = await ctl(['gateway', 'status']);
  t.equal(status.code, 0);
  t.match(status.stdout, /node node-1: online/, 'phonectl shows the gateway online');
  t.match(status.stdout, /messages to XMPP: 0 queued, 1 sent/);

  await prosody.stop();
  await eventually(() => {
    if (gateway.isConnected) throw new Error('still online');
  });
  await say('during 1');
  await say('during 2');
  const down = await ctl(['--json', 'gateway', 'status']);
  const json = JSON.parse(down.stdout) as { queued: number; nodes: { state: string }[] };
  t.equal(json.queued, 2, 'two messages wait in the queue');
  t.not(json.nodes[0]?.state, 'online', 'phonectl shows the gateway down');

  await prosody.run();
  await eventually(() => {
    if (!gateway.isConnected) throw new Error('not back yet');
  });
  t.pass('the gateway reconnected by itself');
  await dave.stop();
  dave = await XmppUser.connect(prosody, 'dave');
  await say('after');
  await dave.next((s) => s.getChildText('body') === 'after');
  t.same(dave.bodiesFrom(jidOn('alice')), ['during 1', 'during 2', 'after'], 'each message once, in order');

  await dave.chat(jidOn('alice'), 'back again');
  await eventually(async () => {
    const texts = (await platform.services.presence.unread(alice)).map((m) => m.text);
    if (!texts.includes('back again')) throw new Error(`Alice has ${texts.join(', ')}`);
  });
  t.pass('and Dave reaches Alice after the restart');
  t.ok(gateway.state.connects >= 2, `connected ${gateway.state.connects} times`);
});
