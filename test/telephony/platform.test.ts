import t from 'tap';
import { Platform } from '../../src/app.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Call, DeviceStateEvent } from '../../src/telephony/port.js';
import { testConfig } from '../support/env.js';
import { until } from './support.js';

t.test(
  'with no ARI URL the platform runs the simulator and connects call control and device states to it',
  async (t) => {
    const dir = t.testdir({});
    const platform = new Platform({ config: testConfig(dir, { sim: { speedFactor: 50 } }), log: silentLogger() });
    t.teardown(() => platform.stop());
    await platform.start();
    const sim = platform.sim;
    if (!sim) throw new Error('no embedded simulator');
    t.ok(platform.callControl.isConnected, 'call control is connected when start() returns');
    t.equal(platform.services.callControl, platform.callControl);
    const got = new Promise<Call>((resolve) => platform.callControl.onCall(resolve));
    const states: DeviceStateEvent[] = [];
    platform.deviceStates.onDeviceState((e) => states.push(e));
    const caller = sim.placeCall({ from: '+15550100101', to: '100' });
    const call = await got;
    t.equal(call.callerNumber, '+15550100101');
    await caller.hangup();
    await call.ended;
    await until('AMI', () => {
      sim.setDeviceState('PJSIP/bob-desk', states.length % 2 ? 'NOT_INUSE' : 'INUSE');
      return states.length > 0;
    });
    t.equal(states[0]?.device, 'PJSIP/bob-desk');
    const ariUrl = sim.ariUrl;
    await platform.stop();
    t.notOk(platform.callControl.isConnected);
    await t.rejects(fetch(`${ariUrl}/ari/channels`), 'the simulator is closed with the platform');
  },
);

t.test('with an ARI URL the platform does not start a simulator and keeps trying to reach Asterisk', async (t) => {
  const dir = t.testdir({});
  const platform = new Platform({
    config: testConfig(dir, { telephony: { ari: { url: 'http://127.0.0.1:9' }, reconnectInitialMs: 10 } }),
    log: silentLogger(),
  });
  t.teardown(() => platform.stop());
  await platform.start();
  t.equal(platform.sim, undefined);
  t.notOk(platform.callControl.isConnected);
  await t.rejects(platform.callControl.fetchRecording('x'), { code: 'TELEPHONY_NOT_CONNECTED' });
});
