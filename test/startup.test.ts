import t from 'tap';
import { Platform } from '../src/app.js';
import type { VirtualCaller } from '../src/sim/index.js';
import { capturedLog, testConfig } from './support/env.js';
import { SIM_PASSWORD, SIM_USER, simulator, until } from './telephony/support.js';

t.test('a call waiting at start-up is greeted by name once the platform is up', async (t) => {
  const sim = await simulator(t);
  const { lines, log } = capturedLog();
  const config = testConfig(t.testdir({}), {
    demo: true,
    log: { level: 'info' },
    telephony: {
      ari: { url: sim.ariUrl, user: SIM_USER, password: SIM_PASSWORD },
      ami: { host: '127.0.0.1', port: sim.amiPort, user: SIM_USER, secret: SIM_PASSWORD },
    },
  });

  // Before the platform: Stasis() fails, the dialplan says sorry and hangs up.
  const early = sim.placeCall({ from: '+15550100101', to: '100' });
  t.match(await early.ended, { cause: 41 });
  t.same(
    early.playbacks.map((p) => p.media),
    ['sound:ss-noservice'],
    'the caller hears "service unavailable"',
  );

  // Bob's call is handed over the moment the application registers.
  let waiting: VirtualCaller | undefined;
  const off = sim.softswitch.onAppRegistered((app) => {
    if (app === 'phoneim' && !waiting) waiting = sim.placeCall({ from: '+15550100101', to: '100' });
  });
  t.teardown(off);
  const platform = new Platform({ config, log });
  t.teardown(() => platform.stop());
  // Carol is already on her desk phone when the platform starts.
  const { accounts, presence } = platform.services;
  const carol = await accounts.createUser({ username: 'carol', displayName: 'Carol' });
  await accounts.addDevice('carol', { kind: 'phone', address: '+1 555 010 0103', asteriskDevice: 'PJSIP/carol-desk' });
  sim.setDeviceState('PJSIP/carol-desk', 'INUSE');
  t.notOk(platform.isReady);
  await platform.start();
  t.ok(platform.isReady, 'the platform says it is ready');
  await until('Carol on the phone', async () => (await presence.presenceOf(carol.id)).state === 'on-the-phone', 10_000);
  await until('the call', () => waiting !== undefined, 10_000);
  const heard = () => lines.filter((l) => l.msg === 'caller hears').map((l) => String(l.says));
  await until('a greeting', () => heard().length > 0, 20_000);
  t.match(heard()[0], /^Welcome back, Bob/, 'greeted by name, not as an unknown caller');
  const demo = lines.findIndex((l) => String(l.msg).startsWith('demo community ready'));
  const ari = lines.findIndex((l) => l.msg === 'ARI connected');
  t.ok(demo >= 0 && ari > demo, 'the ARI application came up after the demo community was seeded');

  // Stopping: the application goes first, so the caller is hung up and nobody new is taken.
  await platform.stop();
  t.notOk(platform.isReady);
  t.notOk(sim.softswitch.isRegistered('phoneim'));
  t.equal((await (waiting as VirtualCaller).ended).by, 'app', 'the platform hung up its call as it stopped');
  const late = sim.placeCall({ from: '+15550100101', to: '100' });
  t.match(await late.ended, { cause: 41 });
});
