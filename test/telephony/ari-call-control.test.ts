import t from 'tap';
import { capturedLog } from '../support/env.js';
import { WebSocket } from 'ws';
import type { Call } from '../../src/telephony/port.js';
import { SIM_PASSWORD, SIM_USER, adapter, simulator, until, nextCall } from './support.js';

t.test('bad input is refused with a coded error before anything is sent', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  t.throws(() => control.setUrl('http://elsewhere'), /after start/);
  const got = nextCall(control);
  sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  await t.rejects(call.play('sound:a,sound:b'), { code: 'TELEPHONY_INVALID_INPUT' });
  await t.rejects(call.play('http://no-scheme'), { code: 'TELEPHONY_INVALID_INPUT' });
  await t.rejects(call.setVariable('bad name', 'x'), { code: 'TELEPHONY_INVALID_INPUT' });
  await t.rejects(control.originate({ endpoint: 'PJSIP/has space' }), { code: 'TELEPHONY_INVALID_INPUT' });
  const pb = await call.play('tone:ring', { bargeIn: false });
  await pb.stop();
  t.equal(await pb.done, 'stopped', 'a playback stopped by the application');
  await pb.stop();
  await call.hangup('busy');
  t.match(await call.ended, { by: 'local', cause: 17 });
  await call.hangup();
});

t.test('close() hangs up live calls and settles pending originates', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  sim.setCallee('slow', { behavior: 'answer', answerAfterMs: 60_000 });
  const pending = control.originate({ endpoint: 'PJSIP/slow', timeoutSeconds: 120 });
  await until('ringing', () => sim.callee('slow').attempts.length === 1);
  await control.close();
  t.match(await pending, { status: 'failed', causeText: /closed/ });
  t.match(await call.ended, { by: 'local' });
  t.match(await caller.ended, { by: 'app' }, 'the caller is not left in silence');
  await t.rejects(control.originate({ endpoint: 'PJSIP/slow' }), { code: 'TELEPHONY_CLOSED' });
  await control.close();
});

t.test('calls left from an earlier run are hung up when the adapter connects', async (t) => {
  const sim = await simulator(t);
  sim.softswitch.registerApp('phoneim');
  const leftover = sim.placeCall({ from: '+15550100101', to: '100' });
  await new Promise((r) => setTimeout(r, 1100));
  sim.softswitch.unregisterApp('phoneim');
  const control = adapter(t, sim.ariUrl);
  const calls: Call[] = [];
  control.onCall((c) => calls.push(c));
  await control.ready();
  t.match(await leftover.ended, { by: 'app' });
  t.equal(calls.length, 0, 'not handed to the IVR');
});

t.test('another client taking the application over is logged; malformed events are ignored', async (t) => {
  const sim = await simulator(t);
  const { lines, log } = capturedLog();
  const control = adapter(t, sim.ariUrl, { log });
  await control.ready();
  const other = new WebSocket(
    `ws://127.0.0.1:${sim.ariPort}/ari/events?app=phoneim&api_key=${SIM_USER}:${SIM_PASSWORD}`,
  );
  t.teardown(() => other.terminate());
  await until('replaced', () => lines.some((l) => /took over the application/.test(String(l.msg))));
  t.pass('logged');
});

t.test(
  'ari-client runs on @cypress/request (the override in package.json), as every test here exercises',
  async (t) => {
    const { createRequire } = await import('node:module');
    const fromAriClient = createRequire(createRequire(import.meta.url).resolve('ari-client'));
    t.equal((fromAriClient('request/package.json') as { name: string }).name, '@cypress/request');
  },
);

t.test('bridges: two calls in one bridge hear each other; ended calls are skipped quietly', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const first = nextCall(control);
  const bob = sim.placeCall({ from: '+15550100101', to: '100' });
  const bobCall = await first;
  const second = nextCall(control);
  const alice = sim.placeCall({ from: '+15550100102', to: '100' });
  const aliceCall = await second;
  await t.rejects(control.createBridge('bad name!'), { code: 'TELEPHONY_INVALID_INPUT' });
  const bridge = await control.createBridge('chat-1');
  await bridge.add(bobCall);
  await bridge.add(aliceCall);
  t.same(bob.bridgedWith, [alice.channelId]);
  t.same(alice.bridgedWith, [bob.channelId]);
  await bridge.remove(aliceCall);
  t.same(bob.bridgedWith, []);
  await bridge.remove(aliceCall);
  await alice.hangup();
  await aliceCall.ended;
  await bridge.add(aliceCall);
  await bridge.add(bobCall);
  await bridge.destroy();
  t.same(bob.bridgedWith, [], 'destroying the bridge leaves the call up on its own');
  t.ok(bob.isUp);
  await bridge.destroy();
  const entered = sim.ari.eventLog.filter((e) => e.type === 'ChannelEnteredBridge');
  t.equal(entered.length, 2, 'adding a call already in the bridge changes nothing');
  t.match(entered[0], { bridge: { name: 'chat-1', bridge_type: 'mixing' }, channel: { id: bob.channelId } });
  await bobCall.hangup();
});
