/**
 * A phone subscriber of community C with no link: Alice of A invites him by
 * his number (+15550100301@c.example) and writes. C's notifier runs his own
 * ladder on A's behalf: C's server calls him back through the simulator; he
 * hears who wants to chat and from which community, and A's message; he
 * presses 1, and A sees him join; Alice's next message is read to him live.
 */
import t from 'tap';
import { eventually } from '../support/env.js';
import { federate, inProcessCommunity, type SessionView } from '../support/federation.js';
import { ApiClient, makeUsers } from '../support/presence.js';
import { FAST_IVR, Transcript } from '../ivr/support/sim-harness.js';

t.setTimeout(360_000);

t.test('a phone user of C is called back for a chat from A and accepts with 1', async (t) => {
  const a = await inProcessCommunity(t, 'a.example', { displayName: 'community A' });
  const c = await inProcessCommunity(
    t,
    'c.example',
    { displayName: 'community C' },
    { ivr: FAST_IVR, sim: { speedFactor: 20 }, notify: { collectDelaySeconds: 0 } },
  );
  await federate([a, c]);
  const cp = c.platform!;
  await makeUsers(a.platform!, ['alice']);
  const dave = await cp.services.accounts.createUser({
    username: 'dave',
    displayName: 'Dave',
    pin: '2468',
    callerIds: ['+15550100301'],
  });
  cp.services.accounts.addDevice(dave.id, { kind: 'phone', address: '+15550100301' });
  const sim = cp.sim!;
  await eventually(() => {
    if (!cp.callControl.isConnected) throw new Error('ARI not connected yet');
  });
  const callee = sim.setCallee('+15550100301', { behavior: 'answer', answerAfterMs: 300 });

  const alice = await ApiClient.login(a.url, 'alice');
  const made = await alice.call('POST', '/api/v1/federation/invite', { to: '+15550100301@c.example' });
  t.equal(made.status, 200, JSON.stringify(made.body));
  const sessionId = (made.body as SessionView).id;
  t.equal((await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Lunch at noon?' })).status, 201);

  const caller = await callee.nextCall(30_000);
  const call = new Transcript(caller, cp.services.audio);
  await call.hears(/Alice from community A wants to chat with you/);
  await call.hears(/^Lunch at noon\?$/);
  await call.hears(/^Press 1 to accept/);
  await caller.pressKeys('1');
  const joined = await eventually(
    async () => {
      const r = await alice.call('GET', `/api/v1/sessions/${sessionId}`);
      const m = (r.body as SessionView).members.find((x) => x.userId !== (r.body as SessionView).members[0]?.userId);
      if (m?.state !== 'joined') throw new Error(`dave: ${m?.state}`);
      return m.state;
    },
    { timeoutMs: 20_000 },
  );
  t.equal(joined, 'joined', 'A sees the phone user join');
  t.equal((await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'See you there.' })).status, 201);
  await call.hears(/See you there\.$/);
  await caller.hangup();
});
