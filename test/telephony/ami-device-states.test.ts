import t from 'tap';
import { capturedLog } from '../support/env.js';
import { SystemClock } from '../../src/core/clock.js';
import { AmiDeviceStates } from '../../src/telephony/ami-device-states.js';
import type { DeviceStateEvent } from '../../src/telephony/port.js';
import { SIM_PASSWORD, SIM_USER, simulator, until } from './support.js';

t.test('Asterisk comes up late, then restarts: states are read afresh, forgotten ones become UNKNOWN', async (t) => {
  const probe = await simulator(t);
  const port = probe.amiPort;
  await probe.close();
  const { lines, log } = capturedLog();
  const source = new AmiDeviceStates({
    host: '127.0.0.1',
    port,
    user: SIM_USER,
    secret: SIM_PASSWORD,
    pingIntervalSeconds: 30,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
    log,
    clock: new SystemClock(),
  });
  t.teardown(() => source.close());
  const heard: DeviceStateEvent[] = [];
  source.onDeviceState((e) => heard.push(e));
  await source.start();
  await until('refused tries', () => lines.filter((l) => /reconnecting/.test(String(l.msg))).length >= 2);
  t.ok(
    lines.every((l) => !/reconnecting/.test(String(l.msg)) || (l.retryInMs as number) <= 100),
    'the backoff stays within reconnectMaxMs',
  );

  const first = await simulator(t, { amiPort: port });
  first.addHint('201', 'phoneim-hints', 'PJSIP/bob-desk');
  first.setDeviceState('PJSIP/bob-desk', 'INUSE');
  await until('first login', () => source.isLoggedIn && source.snapshot().get('201@phoneim-hints') === 'INUSE');
  t.same(heard, [
    { device: 'PJSIP/bob-desk', state: 'INUSE' },
    { device: '201@phoneim-hints', state: 'INUSE' },
  ]);

  // Asterisk restarts: it no longer knows the device nor the hint.
  await first.close();
  const second = await simulator(t, { amiPort: port });
  await until('second login', () => source.logins === 2 && source.snapshot().get('201@phoneim-hints') === 'UNKNOWN');
  t.same(heard.slice(2), [
    { device: 'PJSIP/bob-desk', state: 'UNKNOWN' },
    { device: '201@phoneim-hints', state: 'UNKNOWN' },
  ]);
  second.setDeviceState('PJSIP/bob-desk', 'NOT_INUSE');
  await until('idle', () => source.snapshot().get('PJSIP/bob-desk') === 'NOT_INUSE');
  t.notOk(JSON.stringify(lines).includes(SIM_PASSWORD), 'the secret is never logged');
});

t.test('closed while its connection is still opening: nothing printed, the connection ends', async (t) => {
  const sim = await simulator(t);
  const printed: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(args);
  t.teardown(() => {
    console.log = log;
  });
  for (let i = 0; i < 5; i++) {
    const source = new AmiDeviceStates({
      host: '127.0.0.1',
      port: sim.amiPort,
      user: SIM_USER,
      secret: SIM_PASSWORD,
      pingIntervalSeconds: 30,
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      log: capturedLog().log,
      clock: new SystemClock(),
    });
    await source.start();
    await source.close();
  }
  await until('every connection came and ended', () => {
    const c = sim.ami.connections;
    return c.accepted === 5 && c.open === 0;
  });
  console.log = log;
  t.same(printed, [], 'asterisk-manager printed nothing (it does when its socket is taken while connecting)');
});
