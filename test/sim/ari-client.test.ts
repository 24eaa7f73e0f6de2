/**
 * Any ARI application, not only ours: a plain `ari-client` application (the
 * library as its README uses it, no adapter of ours) connects to the
 * simulator, lists applications, reads asterisk info, originates, answers,
 * plays, records and hangs up. The events it gets come in the order a real
 * Asterisk 22 sends them (shared/asterisk-samples), and the raw REST answers
 * carry Asterisk's status codes and error bodies.
 */
import type { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ari, { type Client } from 'ari-client';
import t, { type Test } from 'tap';
import { writeWav } from '../../src/sim/wav.js';
import { ROOT } from '../support/env.js';
import { SIM_PASSWORD, SIM_USER, simulator, until } from '../telephony/support.js';

const SHARED = [join(ROOT, '../shared'), join(ROOT, '../../shared')].find((d) =>
  existsSync(join(d, 'asterisk-samples')),
);
if (!SHARED) throw new Error('the captured Asterisk events (shared/asterisk-samples) are missing');
type Captured = { type: string; variable?: string; dialstatus?: string; channel?: { state?: string } };
const samples = JSON.parse(readFileSync(join(SHARED, 'asterisk-samples/ari-events.json'), 'utf8')) as Record<
  string,
  { events?: Captured[] }
>;
const sample = (prefix: string) =>
  Object.entries(samples).find(([k]) => k.startsWith(prefix))?.[1].events ?? ([] as Captured[]);

/** An event as compared: type, and what tells two of a type apart. */
const label = (e: Captured) =>
  e.type === 'Dial'
    ? `Dial(${e.dialstatus})`
    : e.type === 'ChannelVarset'
      ? `ChannelVarset(${e.variable})`
      : e.type === 'ChannelStateChange'
        ? `ChannelStateChange(${e.channel?.state})`
        : e.type;

async function connect(t: Test, url: string, app: string): Promise<{ client: Client; events: Captured[] }> {
  const client = await ari.connect(url, SIM_USER, SIM_PASSWORD);
  const events: Captured[] = [];
  // ari-client emits every event as '*' too (its typings leave that out).
  (client as unknown as EventEmitter).on('*', (e: Captured) => events.push(e));
  await client.start(app);
  t.teardown(() => client.stop());
  return { client, events };
}

t.test('a plain ari-client application: info, applications, originate, play, record, hang up', async (t) => {
  const sounds = t.testdir({ 'hello.wav': writeWav(Buffer.alloc(8000 * 2), 8000) });
  const sim = await simulator(t, { soundsDir: sounds });
  const { client, events } = await connect(t, sim.ariUrl, 'generic-app');

  const apps = await client.applications.list();
  t.same(
    apps.map((a) => a.name),
    ['generic-app'],
    'the application is listed once connected',
  );
  const info = await client.asterisk.getInfo();
  t.equal(info.system?.entity_id, sim.softswitch.asteriskId, 'asterisk info names the system');
  t.match(info.status?.startup_time, /^\d{4}-\d\d-\d\dT/, 'and when it started');
  t.same(Object.keys(await client.asterisk.getInfo({ only: 'build' })), ['build'], 'only= narrows it');
  t.equal((await client.asterisk.ping()).ping, 'pong');
  t.same(
    (await client.sounds.list()).map((s) => s.id),
    ['hello'],
    'the sounds directory is listed',
  );

  // Originate to a phone that answers, as the captured PJSIP outbound call did.
  sim.setCallee('desk', { behavior: 'answer', answerAfterMs: 200 });
  const answered = sim.callee('desk').nextCall();
  const channel = await client.channels.originate({
    endpoint: 'PJSIP/desk',
    app: 'generic-app',
    appArgs: 'arg1,arg2',
  });
  const callee = await answered;
  await until('StasisStart', () => events.some((e) => e.type === 'StasisStart'));
  const started = events.find((e) => e.type === 'StasisStart') as Captured & { args?: string[] };
  t.same(started?.args, ['arg1', 'arg2'], 'StasisStart carries the originate arguments');

  const playback = client.Playback();
  const finished = new Promise((r) => playback.once('PlaybackFinished', r));
  await channel.play({ media: 'sound:hello' }, playback);
  await finished;
  const recording = client.LiveRecording();
  const recStarted = new Promise((r) => recording.once('RecordingStarted', r));
  const recDone = new Promise<{ recording: { duration?: number; state: string } }>((r) =>
    recording.once('RecordingFinished', (e) => r(e as never)),
  );
  await channel.record({ name: 'reply-1', format: 'wav', terminateOn: '#', maxDurationSeconds: 30 }, recording);
  await recStarted;
  await callee.pressKeys('42#', { gapMs: 50 });
  const done = await recDone;
  t.equal(done.recording.state, 'done', 'the recording ends on #');
  const stored = await client.recordings.listStored();
  t.ok(
    // ari-client names the recording after its LiveRecording object.
    stored.some((r) => r.name === recording.name),
    'and is stored under its name',
  );
  await channel.hangup();
  await until('ChannelDestroyed', () => events.some((e) => e.type === 'ChannelDestroyed'));

  const real = sample('pjsip_outbound')
    .filter((e) => !(e.type === 'ChannelVarset' && e.variable?.startsWith('RTPAUDIOQOS')))
    .map(label);
  t.same(events.map(label), real, 'the events come as a real Asterisk 22 sent them');
  const hangup = events.find((e) => e.type === 'ChannelHangupRequest') as { cause?: number } | undefined;
  t.equal(hangup?.cause, 32, 'a hang-up from ARI is a soft hang-up, cause 32');
});

t.test('a Local channel that answers goes up without ringing; variables set at originate are announced', async (t) => {
  const sim = await simulator(t);
  const { client, events } = await connect(t, sim.ariUrl, 'generic-app');
  sim.setCallee('talker', { behavior: 'answer', answerAfterMs: 100 });
  const channel = await client.channels.originate({
    endpoint: 'Local/talker@phoneim-test',
    app: 'generic-app',
    variables: { _FAKE_WAIT: '3' },
  });
  await until('StasisStart', () => events.some((e) => e.type === 'StasisStart'));
  const real = sample('ari_originate_Local')
    .slice(0, sample('ari_originate_Local').findIndex((e) => e.type === 'StasisStart') + 1)
    .filter((e) => ['ChannelVarset', 'Dial', 'ChannelStateChange', 'StasisStart'].includes(e.type))
    .map(label);
  t.same(events.map(label), real, 'up to StasisStart, as a real Asterisk 22 sent them');
  t.notOk(
    events.some((e) => e.channel?.state === 'Ringing'),
    'no ringing',
  );
  await channel.hangup();
});

t.test('REST answers: status codes and bodies of Asterisk 22', async (t) => {
  const sim = await simulator(t);
  const { client, events } = await connect(t, sim.ariUrl, 'generic-app');
  const auth = { authorization: `Basic ${Buffer.from(`${SIM_USER}:${SIM_PASSWORD}`).toString('base64')}` };
  const ari = (method: string, path: string, headers: Record<string, string> = auth) =>
    fetch(`${sim.ariUrl}/ari${path}`, { method, headers });
  const json = async (r: Response) => ({ status: r.status, body: await r.json() });

  const caller = sim.placeCall({ from: '+15550100101', to: '100', app: 'generic-app', answered: false });
  await until('StasisStart', () => events.some((e) => e.type === 'StasisStart'));
  const id = caller.channelId;
  t.equal((await ari('POST', `/channels/${id}/answer`)).status, 204, 'answer: 204');
  const play = await ari('POST', `/channels/${id}/play?media=digits:12`);
  t.equal(play.status, 201, 'play: 201 Created');
  const pb = (await play.json()) as { id: string };
  t.equal(play.headers.get('location'), `/playbacks/${pb.id}`, 'with its Location');
  const rec = await ari('POST', `/channels/${id}/record?name=r1&format=wav`);
  t.equal(rec.status, 201, 'record: 201 Created');
  t.equal(rec.headers.get('location'), '/recordings/live/r1');
  t.same(await json(await ari('GET', '/channels/nope')), { status: 404, body: { message: 'Channel not found' } });
  t.same(await json(await ari('GET', '/channels', {})), {
    status: 401,
    body: { message: 'Authentication required' },
  });
  const key = await fetch(`${sim.ariUrl}/ari/asterisk/ping?api_key=${SIM_USER}:${SIM_PASSWORD}`);
  t.equal(key.status, 200, 'api_key authenticates');
  t.same(await json(await ari('POST', `/channels/${id}/snoop?app=generic-app`)), {
    status: 501,
    body: { message: 'Method not implemented' },
  });
  const put = await ari('PUT', '/channels');
  t.same({ status: put.status, allow: put.headers.get('allow') }, { status: 405, allow: 'GET,POST' });
  t.equal((await ari('POST', '/channels/create?endpoint=PJSIP/x&app=generic-app')).status, 501, 'create: 501');

  t.equal((await ari('PUT', '/deviceStates/Stasis:desk?deviceState=BUSY')).status, 204, 'device state set');
  t.same(
    (await client.deviceStates.list()).map((d) => [d.name, d.state]),
    [['Stasis:desk', 'BUSY']],
  );
  t.equal((await ari('PUT', '/deviceStates/PJSIP:desk?deviceState=BUSY')).status, 409, 'only Stasis: devices');
  t.equal((await ari('PUT', '/mailboxes/100@default?oldMessages=1&newMessages=2')).status, 204);
  const box = await client.mailboxes.get({ mailboxName: '100@default' });
  t.same([box.name, box.old_messages, box.new_messages], ['100@default', 1, 2]);
  t.ok(
    (await client.endpoints.list()).some((e) => e.technology === 'PJSIP' && e.channel_ids.includes(id)),
    'the inbound trunk endpoint holds the call',
  );
  await client.asterisk.setGlobalVar({ variable: 'GREETING', value: 'hi' });
  t.equal((await client.asterisk.getGlobalVar({ variable: 'GREETING' })).value, 'hi');
  await client.applications.subscribe({ applicationName: 'generic-app', eventSource: 'deviceState:Stasis:desk' });
  await ari('PUT', '/deviceStates/Stasis:desk?deviceState=INUSE');
  await until('DeviceStateChanged', () => events.some((e) => e.type === 'DeviceStateChanged'));
  await client.events.userEvent({ eventName: 'hello', application: 'generic-app', source: `channel:${id}` });
  await until('ChannelUserevent', () => events.some((e) => e.type === 'ChannelUserevent'));
  t.equal((await ari('DELETE', `/channels/${id}`)).status, 204, 'hang up: 204');
  // Events on one socket keep their order: a user event sent now arrives after any for the call.
  await client.events.userEvent({ eventName: 'after', application: 'generic-app' });
  await until('the marker', () => events.some((e) => (e as { eventname?: string }).eventname === 'after'));
  const mine = events.filter((e) => (e as { channel?: { id?: string } }).channel?.id === id).map((e) => e.type);
  t.same(
    mine.slice(-2),
    ['ChannelHangupRequest', 'StasisEnd'],
    'an inbound call ends at StasisEnd for the application, with no ChannelDestroyed (as on Asterisk 22)',
  );
});

t.test('the rest of what IVR applications use, over raw REST', async (t) => {
  const sounds = t.testdir({
    'beep.wav': writeWav(Buffer.alloc(1600), 8000),
    fr: { 'beep.wav': writeWav(Buffer.alloc(1600), 8000) },
  });
  const sim = await simulator(t, { soundsDir: sounds });
  const { events } = await connect(t, sim.ariUrl, 'generic-app');
  const auth = { authorization: `Basic ${Buffer.from(`${SIM_USER}:${SIM_PASSWORD}`).toString('base64')}` };
  const call = async (method: string, path: string) => {
    const r = await fetch(`${sim.ariUrl}/ari${path}`, { method, headers: auth });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const caller = sim.placeCall({ from: '+15550100101', to: '100', app: 'generic-app' });
  await until('StasisStart', () => events.some((e) => e.type === 'StasisStart'));
  const id = caller.channelId;
  for (const [method, what] of [
    ['POST', 'hold'],
    ['DELETE', 'hold'],
    ['POST', 'mute'],
    ['DELETE', 'mute'],
    ['POST', 'moh'],
    ['DELETE', 'moh'],
    ['POST', 'silence'],
    ['DELETE', 'silence'],
    ['POST', 'progress'],
    ['DELETE', 'ring'],
    ['POST', 'dtmf?dtmf=12'],
  ] as const)
    t.equal((await call(method, `/channels/${id}/${what}`)).status, 204, `${method} ${what}: 204`);
  t.equal((await call('POST', `/channels/${id}/dtmf`)).status, 400, 'dtmf wants digits');
  t.equal((await call('POST', '/channels/nope/hold')).status, 404);

  t.same(await call('GET', '/asterisk/info?only=nothing'), {
    status: 400,
    body: { message: "Unknown 'only' value nothing" },
  });
  t.equal((await call('GET', '/asterisk/variable')).status, 400, 'a global variable needs a name');
  t.same((await call('GET', '/asterisk/variable?variable=UNSET')).body, { value: '' });

  t.match((await call('POST', '/bridges/conf-1?type=mixing&name=conf')).body, { id: 'conf-1', name: 'conf' });
  t.equal((await call('POST', '/bridges/conf-1')).status, 409, 'a bridge id is taken once');

  await call('POST', `/channels/${id}/record?name=memo&format=wav&maxDurationSeconds=1`);
  await until('memo stored', () => sim.recording('memo') !== undefined);
  t.same(await call('POST', '/recordings/stored/memo/copy?destinationRecordingName=memo-2'), {
    status: 200,
    body: { name: 'memo-2', format: 'wav' },
  });
  t.equal((await call('POST', '/recordings/stored/memo/copy?destinationRecordingName=memo-2')).status, 409);
  t.equal((await call('POST', '/recordings/stored/memo/copy?destinationRecordingName=../x')).status, 400);

  t.match((await call('GET', '/endpoints/PJSIP')).body, [{ technology: 'PJSIP', resource: 'sim-trunk' }]);
  t.match((await call('GET', '/endpoints/PJSIP/sim-trunk')).body, { channel_ids: [id], state: 'online' });
  t.equal((await call('GET', '/endpoints/PJSIP/nobody')).status, 404);
  t.equal((await call('GET', '/endpoints/XMPP')).status, 404);

  t.same((await call('GET', '/deviceStates/PJSIP%2Fnobody')).body, { name: 'PJSIP/nobody', state: 'UNKNOWN' });
  t.equal((await call('PUT', '/deviceStates/Stasis:lamp?deviceState=GLOWING')).status, 500, 'an unknown state');
  t.equal((await call('DELETE', '/deviceStates/Stasis:lamp')).status, 404);
  await call('PUT', '/deviceStates/Stasis:lamp?deviceState=INUSE');
  t.equal((await call('DELETE', '/deviceStates/Stasis:lamp')).status, 204);
  t.same((await call('GET', '/deviceStates')).body, []);

  t.equal((await call('PUT', '/mailboxes/9@x')).status, 400, 'counts are required');
  await call('PUT', '/mailboxes/9@x?oldMessages=0&newMessages=1');
  t.same((await call('GET', '/mailboxes')).body, [{ name: '9@x', old_messages: 0, new_messages: 1 }]);
  t.equal((await call('DELETE', '/mailboxes/9@x')).status, 204);
  t.equal((await call('GET', '/mailboxes/9@x')).status, 404);

  t.same((await call('GET', '/sounds/beep')).body, {
    id: 'beep',
    formats: [
      { language: 'en', format: 'wav' },
      { language: 'fr', format: 'wav' },
    ],
  });
  t.same((await call('GET', '/sounds?lang=fr')).body, [{ id: 'beep', formats: [{ language: 'fr', format: 'wav' }] }]);
  t.equal((await call('GET', '/sounds/none')).status, 404);

  t.equal((await call('POST', '/applications/generic-app/subscription')).status, 400, 'an event source is needed');
  t.equal((await call('POST', '/applications/generic-app/subscription?eventSource=channel:nope')).status, 422);
  t.match((await call('POST', `/applications/generic-app/subscription?eventSource=bridge:conf-1`)).body, {
    bridge_ids: ['conf-1'],
  });
  t.match((await call('DELETE', '/applications/generic-app/subscription?eventSource=bridge:conf-1')).body, {
    bridge_ids: [],
  });
  t.equal((await call('DELETE', '/applications/generic-app/subscription?eventSource=bridge:conf-1')).status, 409);
  t.equal((await call('GET', '/applications/nobody')).status, 404);
  t.equal((await call('POST', '/events/user/x')).status, 400, 'a user event names its application');
  t.equal((await call('POST', '/events/user/x?application=generic-app&source=endpoint:PJSIP/x')).status, 422);
  await call('DELETE', `/channels/${id}`);
});
