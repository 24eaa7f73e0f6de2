/** AMI: the simulator's manager face, and the device-state source reading it through asterisk-manager. */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import t from 'tap';
import { ManualClock, SystemClock } from '../../src/core/clock.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { AmiDeviceStates } from '../../src/telephony/ami-device-states.js';
import type { DeviceStateEvent } from '../../src/telephony/port.js';
import { SIM_PASSWORD, SIM_USER, simulator, until } from '../telephony/support.js';

/** A raw manager session: send messages, read what comes back. */
async function session(port: number) {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
  });
  await new Promise((r) => socket.once('connect', r));
  t.teardown(() => socket.destroy());
  return {
    send: (fields: Record<string, string>) =>
      socket.write(
        `${Object.entries(fields)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')}\r\n\r\n`,
      ),
    waitFor: async (re: RegExp) => {
      await until(`AMI text ${re}`, () => re.test(text));
      return text;
    },
    get text() {
      return text;
    },
    closed: new Promise((r) => socket.once('close', r)),
  };
}

t.test('login, ping, channels, originate into the application, logoff', async (t) => {
  const sim = await simulator(t);
  const s = await session(sim.amiPort);
  await s.waitFor(/^Asterisk Call Manager\/\d/);
  s.send({ Action: 'Ping', ActionID: '1' });
  await s.waitFor(/Permission denied/);
  s.send({ Action: 'Login', Username: SIM_USER, Secret: SIM_PASSWORD, ActionID: '2' });
  await s.waitFor(/Authentication accepted[\s\S]*FullyBooted/);
  s.send({ Action: 'Ping', ActionID: '3' });
  await s.waitFor(/ActionID: 3\r\nPing: Pong/);
  sim.softswitch.registerApp('phoneim');
  const inbound = new Promise((resolve) => sim.onInboundCall(resolve));
  s.send({
    Action: 'Originate',
    Channel: 'Local/s@fake-caller',
    Context: 'phoneim-inbound',
    Exten: '5551000',
    Priority: '1',
    CallerID: '"Carol" <+15550100103>',
    ActionID: '4',
  });
  await s.waitFor(/Originate successfully queued[\s\S]*OriginateResponse/);
  t.match(await inbound, { number: '+15550100103', direction: 'inbound' });
  s.send({ Action: 'CoreShowChannels', ActionID: '5' });
  const listed = await s.waitFor(/CoreShowChannelsComplete[\s\S]*ListItems: 1/);
  t.match(listed, /Event: CoreShowChannel\r\nActionID: 5\r\nChannel: PJSIP\/sim-trunk-[0-9a-f]+\r\n/);
  t.match(listed, /CallerIDNum: \+15550100103/);
  t.match(listed, /ApplicationData: phoneim,5551000/);
  s.send({ Action: 'Originate', Channel: 'Local/s@x', Application: 'Stasis', Data: 'nobody,1', ActionID: '6' });
  await s.waitFor(/ActionID: 6\r\nMessage: Originate failed/);
  s.send({ Action: 'Originate', ActionID: '7' });
  await s.waitFor(/ActionID: 7\r\nMessage: Channel and Exten/);
  s.send({ Action: 'Frobnicate', ActionID: '8' });
  await s.waitFor(/ActionID: 8\r\nMessage: Invalid\/unknown command/);
  s.send({ Action: 'Logoff' });
  await s.waitFor(/Response: Goodbye/);
  await s.closed;
});

t.test('a failed login is refused and the connection closed', async (t) => {
  const sim = await simulator(t);
  const s = await session(sim.amiPort);
  s.send({ Action: 'Login', Username: SIM_USER, Secret: 'wrong' });
  await s.waitFor(/Authentication failed/);
  await s.closed;
  t.pass('closed');
});

t.test('device states reach the presence stream: DeviceStateChange, ExtensionStatus, the list at login', async (t) => {
  const sim = await simulator(t);
  sim.setDeviceState('PJSIP/carol-desk', 'UNAVAILABLE');
  sim.addHint('201', 'phones', 'PJSIP/bob-desk');
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(c, _e, cb) {
        for (const l of c.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        cb();
      },
    }),
  });
  const source = new AmiDeviceStates({
    host: '127.0.0.1',
    port: sim.amiPort,
    user: SIM_USER,
    secret: SIM_PASSWORD,
    pingIntervalSeconds: 1,
    reconnectInitialMs: 20,
    reconnectMaxMs: 200,
    log,
    clock: new SystemClock(),
  });
  t.teardown(() => source.close());
  const seen: DeviceStateEvent[] = [];
  const off = source.onDeviceState((e) => seen.push(e));
  await source.start();
  await until('login', () => source.isLoggedIn);
  await until('initial list', () => seen.length > 0);
  t.same(seen[0], { device: 'PJSIP/carol-desk', state: 'UNAVAILABLE' }, 'the state before we connected');
  sim.setDeviceState('PJSIP/bob-desk', 'INUSE');
  await until('bob in use', () => seen.some((e) => e.device === '201@phones' && e.state === 'INUSE'));
  t.same(
    seen.filter((e) => e.device === 'PJSIP/bob-desk' || e.device === '201@phones'),
    [
      { device: '201@phones', state: 'NOT_INUSE' },
      { device: 'PJSIP/bob-desk', state: 'INUSE' },
      { device: '201@phones', state: 'INUSE' },
    ],
    'the hint is read at login (ExtensionStateList), then DeviceStateChange and ExtensionStatus each name their own',
  );
  sim.setCallee('bob-desk', { behavior: 'busy' });
  sim.setDeviceState('PJSIP/bob-desk', 'NOT_INUSE');
  await until('bob idle', () => source.snapshot().get('PJSIP/bob-desk') === 'NOT_INUSE');
  off();
  sim.setDeviceState('PJSIP/bob-desk', 'RINGING');
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(
    seen.some((e) => e.state === 'RINGING'),
    'unsubscribed listeners hear nothing',
  );
  await new Promise((r) => setTimeout(r, 1100));
  t.ok(source.isLoggedIn, 'pings are answered');
  t.ok(lines.some((l) => l.msg === 'AMI connected'));
  t.notOk(JSON.stringify(lines).includes(SIM_PASSWORD), 'the secret is never logged');
});

t.test('a call to a desk phone drives its device state', async (t) => {
  const sim = await simulator(t);
  const states: string[] = [];
  sim.softswitch.onDeviceState((d, s) => d === 'PJSIP/bob-desk' && states.push(s));
  sim.softswitch.registerApp('phoneim');
  sim.setCallee('bob-desk', { behavior: 'answer', answerAfterMs: 20, hangupAfterMs: 40 });
  sim.softswitch.originate({ endpoint: 'PJSIP/bob-desk', app: 'phoneim' });
  await until('call over', () => states.length >= 3);
  t.same(states, ['RINGING', 'INUSE', 'NOT_INUSE']);
});

t.test('a wrong AMI secret is logged as such', async (t) => {
  const sim = await simulator(t);
  const lines: string[] = [];
  const source = new AmiDeviceStates({
    host: '127.0.0.1',
    port: sim.amiPort,
    user: SIM_USER,
    secret: 'wrong',
    pingIntervalSeconds: 60,
    reconnectInitialMs: 20,
    reconnectMaxMs: 200,
    log: createLogger({
      level: 'info',
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(c.toString());
          cb();
        },
      }),
    }),
    clock: new SystemClock(),
  });
  t.teardown(() => source.close());
  await source.start();
  await until('refusal logged', () => lines.some((l) => /AMI login refused/.test(l)));
  t.notOk(source.isLoggedIn);
  void silentLogger;
});

t.test(
  'a dropped manager connection is reopened on schedule, reported in our log and not on the console',
  async (t) => {
    const sim = await simulator(t);
    const lines: { msg: string; retryInMs?: number }[] = [];
    const clock = new ManualClock();
    const source = new AmiDeviceStates({
      host: '127.0.0.1',
      port: sim.amiPort,
      user: SIM_USER,
      secret: SIM_PASSWORD,
      pingIntervalSeconds: 3600,
      reconnectInitialMs: 10_000,
      reconnectMaxMs: 60_000,
      log: createLogger({
        level: 'info',
        destination: new Writable({
          write(c, _e, cb) {
            lines.push(JSON.parse(c.toString()));
            cb();
          },
        }),
      }),
      clock,
    });
    t.teardown(() => source.close());
    const printed: unknown[] = [];
    const consoleLog = console.log;
    console.log = (...args: unknown[]) => printed.push(args);
    t.teardown(() => {
      console.log = consoleLog;
    });
    await source.start();
    await until('login', () => source.isLoggedIn);
    sim.ami.dropConnections();
    await until('drop logged', () => lines.some((l) => l.msg === 'AMI connection closed; reconnecting'));
    t.match(
      lines.find((l) => l.msg === 'AMI connection closed; reconnecting'),
      { retryInMs: 10_000 },
    );
    t.notOk(source.isLoggedIn);
    clock.advance(10_000);
    await until('logged in again', () => source.isLoggedIn && source.logins === 2);
    t.same(printed, [], 'nothing written to the console');
  },
);
