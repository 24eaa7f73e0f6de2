/**
 * Fidelity: everything the simulator declares and sends exists, with the same
 * name, place and type, in the declarations a real Asterisk 22 serves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DECLARED_RESOURCES, apiDeclaration, resourceListing } from '../../src/sim/ari-declarations.js';
import type { Call } from '../../src/telephony/port.js';
import { ROOT } from '../support/env.js';
import { adapter, promptServer, simulator, wav } from '../telephony/support.js';

// The reference data sits beside the checkout (../shared from the main tree, ../../shared from a worktree).
const SHARED = [join(ROOT, '../shared'), join(ROOT, '../../shared')].find((d) =>
  existsSync(join(d, 'asterisk-ari-api-docs')),
);
if (!SHARED) throw new Error('the real ARI declarations (shared/asterisk-ari-api-docs) are missing');
const REAL = join(SHARED, 'asterisk-ari-api-docs');
const SAMPLES = join(SHARED, 'asterisk-samples/ari-events.json');
const real = (name: string) => JSON.parse(readFileSync(join(REAL, `${name}.json`), 'utf8'));
type RealModel = { properties: Record<string, { type: string }>; subTypes?: string[] };
/** Swagger 1.1 models are global across declarations: the union of every file's. */
const realModels: Record<string, RealModel> = Object.assign(
  {},
  ...real('resources').apis.map(
    (a: { path: string }) => real(a.path.replace('/api-docs/', '').replace('.{format}', '')).models,
  ),
);

t.test('every path, method, nickname and parameter served exists in the real declarations', async (t) => {
  const listing = resourceListing('http://h/ari') as { apis: { path: string }[] };
  const realListing = real('resources');
  for (const api of listing.apis)
    t.ok(
      realListing.apis.some((a: { path: string }) => a.path === api.path),
      `${api.path} is listed by Asterisk`,
    );
  for (const name of DECLARED_RESOURCES) {
    const mine = apiDeclaration(name, 'http://h/ari');
    const theirs = real(name);
    if (!mine) throw new Error(name);
    t.equal(mine.resourcePath, theirs.resourcePath);
    for (const api of mine.apis) {
      const rApi = theirs.apis.find((a: { path: string }) => a.path === api.path);
      t.ok(rApi, `${name}: ${api.path} exists`);
      for (const op of api.operations) {
        const rOp = rApi?.operations.find((o: { httpMethod: string }) => o.httpMethod === op.httpMethod);
        t.ok(rOp, `${op.httpMethod} ${api.path} exists`);
        t.equal(op.nickname, rOp?.nickname, `${op.httpMethod} ${api.path} is ${rOp?.nickname}`);
        t.equal(op.responseClass, rOp?.responseClass, `${op.nickname} returns ${rOp?.responseClass}`);
        for (const p of op.parameters) {
          const rp = rOp?.parameters?.find((x: { name: string }) => x.name === p.name);
          t.ok(rp, `${op.nickname}: parameter ${p.name} exists`);
          t.equal(p.paramType, rp?.paramType, `${op.nickname}: ${p.name} is a ${rp?.paramType} parameter`);
          t.equal(p.allowMultiple, rp?.allowMultiple ?? false, `${op.nickname}: ${p.name} allowMultiple`);
        }
      }
    }
    for (const [id, model] of Object.entries(mine.models)) {
      const rModel = realModels[id];
      t.ok(rModel, `model ${id} exists`);
      for (const [prop, spec] of Object.entries(model.properties)) {
        t.ok(rModel?.properties[prop], `${id}.${prop} exists`);
        t.equal(spec.type, rModel?.properties[prop]?.type, `${id}.${prop} is ${rModel?.properties[prop]?.type}`);
      }
    }
  }
});

const realEvents = real('events').models as Record<string, RealModel>;
const channelModel = real('channels').models.Channel as RealModel;
/** Fields an event of this type may carry: its own, Event's and Message's. */
const allowed = (type: string) =>
  new Set([
    ...Object.keys(realEvents[type]?.properties ?? {}),
    ...Object.keys(realEvents.Event?.properties ?? {}),
    ...Object.keys(realEvents.Message?.properties ?? {}),
  ]);

t.test('every event and field the simulator sends exists in the real events model', async (t) => {
  const sim = await simulator(t);
  const prompts = await promptServer(t, { '/tts/prompt-0001-abcdef.wav': [wav(500)] });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  sim.setCallee('talker', { behavior: 'answer', answerAfterMs: 50, keys: [{ afterMs: 50, digits: '1#' }] });
  sim.setCallee('busy', { behavior: 'busy' });
  sim.setCallee('gone', { behavior: 'unreachable' });
  const calls: Call[] = [];
  control.onCall((c) => calls.push(c));
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const r = await control.originate({ endpoint: 'Local/talker@phoneim-test', variables: { A: '1' } });
  await control.originate({ endpoint: 'Local/busy@phoneim-test' });
  await control.originate({ endpoint: 'PJSIP/gone', timeoutSeconds: 1 });
  await control.originate({ endpoint: 'PJSIP/+1555@trunk', timeoutSeconds: 1 });
  if (r.status !== 'answered') throw new Error('no answer');
  await r.call.setVariable('B', '2');
  await (await r.call.play(`sound:${prompts.url('/tts/prompt-0001-abcdef.wav')}`, { bargeIn: false })).done;
  await (await r.call.play('sound:http://127.0.0.1:1/nothing-listens-here.wav', { bargeIn: false })).done;
  await (await r.call.play('digits:12,digits:3'.split(',')[0] as string, { bargeIn: false })).done;
  await r.call.record({ name: 'fields-1', maxDurationSeconds: 1 });
  const bridge = await control.createBridge('fields');
  await bridge.add(r.call);
  await bridge.remove(r.call);
  await bridge.add(r.call);
  await bridge.destroy();
  const rec = r.call.record({ name: 'fields-2', maxDurationSeconds: 10 });
  await new Promise((res) => setTimeout(res, 20));
  await r.call.hangup();
  await rec;
  await caller.hangup();
  const types = new Set<string>();
  for (const e of sim.ari.eventLog) {
    types.add(e.type);
    const ok = allowed(e.type);
    for (const k of Object.keys(e)) if (!ok.has(k)) t.fail(`${e.type}.${k} is not in the real model`);
    const ch = e.channel as Record<string, unknown> | undefined;
    if (ch)
      for (const k of Object.keys(ch))
        if (!channelModel.properties[k]) t.fail(`${e.type}.channel.${k} is not a Channel field`);
  }
  for (const type of types) t.ok(realEvents[type], `${type} is a real event`);
  for (const must of [
    'StasisStart',
    'StasisEnd',
    'ChannelStateChange',
    'ChannelDtmfReceived',
    'ChannelHangupRequest',
    'ChannelDestroyed',
    'ChannelVarset',
    'Dial',
    'PlaybackStarted',
    'PlaybackFinished',
    'RecordingStarted',
    'RecordingFinished',
    'ChannelEnteredBridge',
    'ChannelLeftBridge',
  ])
    t.ok(types.has(must), `the run produced ${must}`);
});

t.test('the simulator tells events apart as the captured Asterisk streams do', async (t) => {
  const samples = JSON.parse(readFileSync(SAMPLES, 'utf8')) as Record<string, { events?: { type: string }[] }>;
  const sampleTypes = new Set(Object.values(samples).flatMap((s) => (s.events ?? []).map((e) => e.type)));
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  sim.setCallee('busy', { behavior: 'busy' });
  await control.originate({ endpoint: 'Local/busy@phoneim-test' });
  const busyEvents = sim.ari.eventLog.map((e) => [e.type, e.dialstatus, (e.channel as { name?: string })?.name]);
  t.ok(
    busyEvents.some(([type, status]) => type === 'Dial' && status === 'BUSY'),
    'busy is a Dial event with dialstatus BUSY',
  );
  t.ok(
    busyEvents.some(([, , name]) => String(name).endsWith(';2')),
    'the ;2 half of the Local channel raises events too',
  );
  t.notOk(
    busyEvents.some(([type]) => type === 'StasisStart'),
    'a failed originate has no StasisStart',
  );
  for (const [type] of busyEvents) t.ok(sampleTypes.has(String(type)), `${type} appears in the real streams`);
});
