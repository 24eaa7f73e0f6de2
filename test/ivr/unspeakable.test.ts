/**
 * Messages the speech engine cannot say (only symbols, a lone emoji, markup,
 * far too long, or growing past the limit when said in words) are announced,
 * and the call goes on: in the message list, in a live chat, and on the
 * reverse log-on call.
 */
import t from 'tap';
import { ApiClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from './support/sim-harness.js';

t.setTimeout(360_000);

const POISON = [':-)', '...', '\u{1F984}', '<b></b><i></i>', 'x'.repeat(2100), '\u{1F600}'.repeat(300)];

t.test('Bob hears "cannot be read aloud" for each poison message, then the next message', async (t) => {
  const { url, sim, audio } = await ivrOnSimulator(t);
  const alice = await ApiClient.login(url, 'alice');
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  for (const text of POISON)
    t.equal(
      (await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text })).status,
      201,
      'the web takes it',
    );
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'See you at noon.' });

  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, audio);
  await call.hears(/^Welcome back, Bob/);
  await caller.pressKeys('2468#');
  await call.hears(/^You have 7 new messages\.$/);
  for (let i = 0; i < POISON.length; i++) {
    await call.hears(/^From Alice/);
    await call.hears(/^A message from Alice that cannot be read aloud; read it on the web\.$/);
    await caller.pressKeys('6');
  }
  await call.hears(/^See you at noon\.$/);
  t.notOk(
    call.heard.some((h) => /something went wrong/i.test(h)),
    'never "Sorry, something went wrong"',
  );
  await caller.pressKeys('8');
  await call.hears(/^You are in a chat with Alice/);
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: ':-)' });
  await call.hears(/^A message from Alice that cannot be read aloud; read it on the web\.$/);
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Still there?' });
  await call.hears(/^Alice says: Still there\?$/);
  t.ok(caller.isUp, 'the live chat goes on');
  await caller.hangup();
});

t.test('the call-back for a message that cannot be spoken announces it and offers the chat', async (t) => {
  const { url, sim, audio, platform } = await ivrOnSimulator(t, { notify: { collectDelaySeconds: 0 } });
  await platform.services.accounts.addDevice('bob', { kind: 'phone', address: '+15550100199' });
  const callee = sim.setCallee('+15550100199', { behavior: 'answer' });
  const alice = await ApiClient.login(url, 'alice');
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: '\u{1F984}' });
  const caller = await callee.nextCall(20_000);
  const call = new Transcript(caller, audio);
  await call.hears(/^Hello\. Alice wants to chat with you\.$/);
  await call.hears(/^A message from Alice that cannot be read aloud; read it on the web\.$/);
  await call.hears(/^Press 1 to accept/);
  t.notOk(
    call.heard.some((h) => /something went wrong/i.test(h)),
    'never "Sorry, something went wrong"',
  );
  await caller.hangup();
});
