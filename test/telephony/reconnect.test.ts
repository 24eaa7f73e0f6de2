import t from 'tap';
import { capturedLog } from '../support/env.js';
import { startSimulator } from '../../src/sim/index.js';
import { SIM_PASSWORD, SIM_USER, adapter, simulator, until, nextCall } from './support.js';
import { silentLogger } from '../../src/core/logger.js';

t.test('Asterisk not up at start-up: the adapter keeps trying, says so, and connects when it comes', async (t) => {
  const probe = await simulator(t);
  const port = probe.ariPort;
  await probe.close();
  const { lines, log } = capturedLog();
  const control = adapter(t, `http://127.0.0.1:${port}`, { log });
  await until('two failed tries', () => lines.filter((l) => /not reachable/.test(String(l.msg))).length >= 2);
  t.notOk(control.isConnected);
  const sim = await simulator(t, { ariPort: port });
  await control.ready();
  t.ok(control.isConnected);
  const tries = lines.filter((l) => /not reachable/.test(String(l.msg)));
  t.ok(
    tries.every((l) => typeof l.retryInMs === 'number' && typeof l.attempt === 'number'),
    'each try is logged',
  );
  t.notOk(JSON.stringify(lines).includes(SIM_PASSWORD), 'the password is never logged');
  const got = nextCall(control);
  sim.placeCall({ from: '+15550100101', to: '100' });
  t.equal((await got).callerNumber, '+15550100101');
});

t.test('a caller who hangs up while the WebSocket is down is ended on resync', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const pb = await call.play('digits:1234567890', { bargeIn: false });
  sim.dropWebSockets(300);
  await until('disconnect', () => !control.isConnected);
  await caller.hangup();
  t.ok(call.isAlive, 'the adapter has not heard of it yet');
  await control.ready();
  const end = await call.ended;
  t.equal(end.by, 'remote');
  t.equal(await pb.done, 'hangup');
  t.same(control.held, { calls: 0, playbacks: 0, recordings: 0, originates: 0 });
});

t.test('a playback that finished during the outage is settled on resync', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const got = nextCall(control);
  sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const connections = control.connections;
  const pb = await call.play('digits:1', { bargeIn: false });
  sim.dropWebSockets(200);
  t.equal(await pb.done, 'finished');
  t.ok(control.connections > connections, 'settled after a reconnect');
  t.ok(call.isAlive);
  await call.hangup();
});

t.test('the whole simulator restarts mid-call: the call ends, new calls work, nothing leaks', async (t) => {
  const first = await startSimulator({
    user: SIM_USER,
    password: SIM_PASSWORD,
    soundsDir: t.testdir({}),
    log: silentLogger(),
    speedFactor: 20,
    controlPort: null,
  });
  const port = first.ariPort;
  const control = adapter(t, first.ariUrl);
  await control.ready();
  const got = nextCall(control);
  first.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const rec = call.record({ name: 'restart-1', maxDurationSeconds: 30 });
  await first.close();
  const second = await simulator(t, { ariPort: port });
  t.equal((await call.ended).by, 'remote', 'the call that Asterisk lost is ended');
  t.equal((await rec).outcome, 'hangup');
  await until('reconnected', () => control.isConnected);

  // Many more drops and calls: listeners must not pile up anywhere.
  for (let i = 0; i < 15; i++) {
    const c = nextCall(control);
    const caller = second.placeCall({ from: `+1555010${String(i).padStart(4, '0')}`, to: '100' });
    const call = await c;
    call.onDtmf(() => {});
    await caller.pressKeys('1', { gapMs: 0 });
    second.dropWebSockets(0);
    await until('reconnected', () => control.isConnected && second.ari.webSocketCount === 1);
    await call.hangup();
    await call.ended;
  }
  t.same(control.held, { calls: 0, playbacks: 0, recordings: 0, originates: 0 }, 'no call state left');
  const client = control.ariClient as unknown as { eventNames(): (string | symbol)[]; _instanceListeners: object };
  t.same(client.eventNames(), [], 'no listener on the ari-client Client');
  t.same(client._instanceListeners, {}, 'no per-instance listener in ari-client');
  t.equal(second.ari.webSocketCount, 1, 'exactly one events WebSocket');
  t.ok(control.connections >= 17);
});

t.test('hang-ups racing requests are normal: never a throw', async (t) => {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  for (let i = 0; i < 20; i++) {
    const got = nextCall(control);
    const caller = sim.placeCall({ from: '+15550100101', to: '100' });
    const call = await got;
    const hung = caller.hangup();
    const [pb, rec] = await Promise.all([
      call.play('digits:1'),
      call.record({ name: `race-${i}` }),
      call.answer(),
      call.setVariable('A', 'b'),
      hung,
    ]);
    t.ok(['hangup', 'finished'].includes(await pb.done));
    t.ok(['hangup', 'done'].includes(rec.outcome));
    await call.ended;
  }
  t.same(control.held, { calls: 0, playbacks: 0, recordings: 0, originates: 0 });
});
