/**
 * `phonectl alert test bob` as a new user tries it: the platform calls Bob's
 * phone (a virtual callee on the simulator), he presses 1, hears that it was a
 * test, and the alert ends delivered - not "Sorry, something went wrong".
 */
import t from 'tap';
import { until } from '../telephony/support.js';
import { ivrOnSimulator, Transcript } from '../ivr/support/sim-harness.js';

t.setTimeout(360_000);

t.test('a test alert called back and accepted says it was a test and ends delivered', async (t) => {
  const { platform, sim, audio } = await ivrOnSimulator(t);
  const { accounts, notifier } = platform.services;
  await accounts.addDevice('bob', { kind: 'phone', address: '+15550100199' });
  const callee = sim.setCallee('+15550100199', { behavior: 'answer', keys: [{ afterMs: 30_000, digits: '1' }] });
  const alert = await notifier.test('bob');
  const caller = await callee.nextCall(20_000);
  const call = new Transcript(caller, audio);
  await call.hears(/wants to chat with you/);
  await call.hears(/^This was a test alert: your phone can be called back/);
  await until('the alert ends', async () => (await notifier.show(alert.id)).state !== 'running', 20_000);
  t.match(await notifier.show(alert.id), { state: 'done', reason: 'call accepted' });
  t.match((await notifier.show(alert.id)).steps[0], { channel: 'call', state: 'delivered' });
  t.notOk(
    call.heard.some((h) => /something went wrong/i.test(h)),
    'never "Sorry, something went wrong"',
  );
});
