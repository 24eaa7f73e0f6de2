/**
 * Virtual desk phones: a call from a device puts it in use on AMI as
 * Asterisk reports it (DeviceStateChange, and ExtensionStatus for its hint),
 * whether the call goes to the application or elsewhere; and a call the
 * dialplan hands to an application that is not registered hears
 * "service unavailable", as Asterisk's Stasis() failing does.
 */
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import type { Call } from '../../src/telephony/port.js';
import { SIM_PASSWORD, SIM_USER, adapter, simulator, until } from '../telephony/support.js';

/** A raw manager session, logged in with events on. */
async function manager(t: Test, port: number) {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
  });
  t.teardown(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  const send = (fields: Record<string, string>) =>
    socket.write(
      `${Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
  send({ Action: 'Login', Username: SIM_USER, Secret: SIM_PASSWORD });
  const waitFor = async (re: RegExp) => {
    await until(`AMI text ${re}`, () => re.test(text));
    return text;
  };
  await waitFor(/FullyBooted/);
  return { send, waitFor, mark: () => text.length, since: (at: number) => text.slice(at) };
}

t.test('a call from Bob desk phone into the application: in use while it lasts, idle after', async (t) => {
  const sim = await simulator(t);
  sim.addHint('201', 'phoneim-hints', 'PJSIP/bob-desk');
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const ami = await manager(t, sim.amiPort);
  const from = ami.mark();
  const got = new Promise<Call>((resolve) => control.onCall(resolve));
  const caller = sim.placeCall({ from: '201', to: '100', device: 'PJSIP/bob-desk' });
  const call = await got;
  t.equal(call.callerNumber, '201');
  t.match(caller.channelId, call.id);
  await ami.waitFor(/StatusText: InUse/);
  t.match(
    ami.since(from),
    'Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/bob-desk\r\nState: INUSE\r\n\r\n' +
      'Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: 201\r\nContext: phoneim-hints\r\nHint: PJSIP/bob-desk\r\nStatus: 1\r\nStatusText: InUse\r\n\r\n',
    'the events and fields of Asterisk, in its order',
  );
  ami.send({ Action: 'CoreShowChannels', ActionID: 'c1' });
  t.match(await ami.waitFor(/CoreShowChannelsComplete/), /Channel: PJSIP\/bob-desk-[0-9a-f]{8}\r\n/);
  const idle = ami.mark();
  await caller.hangup();
  await ami.waitFor(/StatusText: Idle/);
  t.match(ami.since(idle), /Device: PJSIP\/bob-desk\r\nState: NOT_INUSE\r\n[\s\S]*Status: 0\r\nStatusText: Idle/);
  ami.send({ Action: 'ExtensionStateList', ActionID: 'x1' });
  const listed = await ami.waitFor(/ExtensionStateListComplete/);
  t.match(
    listed,
    'Response: Success\r\nActionID: x1\r\nEventList: start\r\nMessage: Extension Statuses will follow\r\n\r\n' +
      'Event: ExtensionStatus\r\nActionID: x1\r\nExten: 201\r\nContext: phoneim-hints\r\nHint: PJSIP/bob-desk\r\nStatus: 0\r\nStatusText: Idle\r\n\r\n' +
      'Event: ExtensionStateListComplete\r\nActionID: x1\r\nEventList: Complete\r\nListItems: 1\r\n',
  );
  t.throws(() => sim.placeCall({ from: '201', to: '100', device: 'PJSIP/bob desk' }), { code: 'SIM_INVALID_INPUT' });
});

t.test('a call from the desk phone to elsewhere: the application never sees it, AMI does', async (t) => {
  const sim = await simulator(t, { controlPort: 0 });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const calls: Call[] = [];
  control.onCall((c) => calls.push(c));
  const states: string[] = [];
  sim.softswitch.onDeviceState((d, s) => d === 'PJSIP/bob-desk' && states.push(s));
  const placed = await fetch(`${sim.controlUrl}/sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.controlToken}` },
    body: JSON.stringify({ from: '201', to: '+15550100777', device: 'PJSIP/bob-desk', toApp: false }),
  });
  t.equal(placed.status, 201);
  const { channelId } = (await placed.json()) as { channelId: string };
  t.same(states, ['INUSE']);
  const apps = (await (
    await fetch(`${sim.ariUrl}/ari/applications/phoneim`, {
      headers: { authorization: `Basic ${Buffer.from(`${SIM_USER}:${SIM_PASSWORD}`).toString('base64')}` },
    })
  ).json()) as { channel_ids: string[] };
  t.same(apps.channel_ids, [], 'not in the application');
  const hung = await fetch(`${sim.controlUrl}/sim/calls/${channelId}/hangup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.controlToken}` },
  });
  t.equal(hung.status, 200);
  t.same(states, ['INUSE', 'NOT_INUSE']);
  t.same(calls, [], 'the application was never offered it');
});

t.test('no application registered: Stasis() fails, the caller hears ss-noservice and is hung up', async (t) => {
  const sim = await simulator(t);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const end = await caller.ended;
  t.match(end, { cause: 41, causeText: 'Temporary failure', by: 'sim' });
  t.same(
    caller.playbacks.map((p) => p.media),
    ['sound:ss-noservice'],
  );
  t.equal(sim.softswitch.appInfo('phoneim'), undefined, 'no application was ever known');
});
