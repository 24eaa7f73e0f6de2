import t, { type Test } from 'tap';
import { parseWav } from '../../src/sim/wav.js';
import type { Call, CallControl } from '../../src/telephony/port.js';
import { adapter, promptServer, simulator, until, wav } from '../telephony/support.js';

const nextCall = (control: CallControl) =>
  new Promise<Call>((resolve) => {
    const off = control.onCall((c) => {
      off();
      resolve(c);
    });
  });

async function setup(t: Test) {
  const sim = await simulator(t);
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  return { sim, control };
}

t.test('Bob dials in, hears the menu, barges in with 2, hears the next prompt, hangs up', async (t) => {
  const { sim, control } = await setup(t);
  const prompts = await promptServer(t, {
    '/tts/menu-0001-abcdef.wav': [wav(3000)],
    '/tts/second-0002-abcdef.wav': [wav(500)],
  });
  const got = nextCall(control);
  const bob = sim.placeCall({ from: '+15550100101', to: '100', name: 'Bob' });
  const call = await got;
  t.equal(call.callerName, 'Bob');
  await call.answer();
  const keys: string[] = [];
  call.onDtmf(async (d) => {
    keys.push(d);
    await call.play(`sound:${prompts.url('/tts/second-0002-abcdef.wav')}`);
  });
  const menu = await call.play(`sound:${prompts.url('/tts/menu-0001-abcdef.wav')}`);
  const heard = await bob.nextPlayback();
  t.match(heard.media, /menu-0001/);
  await bob.pressKeys('2');
  t.equal(await menu.done, 'stopped', 'the app stopped the menu at the key');
  await heard.done;
  t.ok(heard.bargedIn, 'the transcript says the menu was cut by barge-in');
  t.ok(heard.stopped);
  const next = await bob.waitForPlayback((p) => p.media.includes('second-0002'));
  t.equal((await next.done).state, 'done');
  t.notOk(next.bargedIn);
  t.same(keys, ['2']);
  t.equal(bob.keysPressed, '2');
  const end = await bob.hangup();
  t.same(end, { cause: 16, causeText: 'Normal Clearing', by: 'caller' });
  t.equal((await call.ended).by, 'remote');
  await t.rejects(bob.pressKeys('1'), { code: 'SIM_CALL_ENDED' });
  await t.rejects(bob.speak(wav(100)), { code: 'SIM_CALL_ENDED' });
});

t.test('DTMF carries 180 ms tones from a virtual phone, and the app sees the order', async (t) => {
  const { sim, control } = await setup(t);
  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const digits: string[] = [];
  call.onDtmf((d, ms) => digits.push(`${d}/${ms}`));
  await caller.pressKeys('2468*#', { gapMs: 50 });
  await until('six digits', () => digits.length === 6);
  t.same(digits, ['2/180', '4/180', '6/180', '8/180', '*/180', '#/180']);
  await caller.pressKeys('1', { durationMs: 100 });
  await until('seventh digit', () => digits.length === 7);
  t.equal(digits.at(-1), '1/100');
  await t.rejects(caller.pressKeys('12x'), { code: 'SIM_INVALID_INPUT' });
  await t.rejects(caller.speak(Buffer.from('not a wav')), { code: 'SIM_BAD_AUDIO' });
  await t.rejects(
    caller.waitForPlayback(() => true, 30),
    { code: 'SIM_TIMEOUT', message: /no matching playback/ },
  );
  await call.hangup();
  t.equal((await caller.ended).by, 'app');
});

t.test('what the caller says becomes the recording; silence ends it and is trimmed', async (t) => {
  const { sim, control } = await setup(t);
  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const speech = wav(2500);
  const said = caller.speak(speech);
  const rec = await call.record({ name: 'reply-1', maxSilenceSeconds: 2, maxDurationSeconds: 60, beep: true });
  await said;
  t.equal(rec.outcome, 'done');
  t.equal(rec.durationSeconds, 2, 'whole seconds, silence trimmed');
  const file = await control.fetchRecording('reply-1');
  const info = parseWav(file);
  t.equal(info?.sampleRate, 8000);
  t.equal(info?.durationMs, 2500, 'the speech and nothing after it');
  t.same(
    file.subarray(info?.dataOffset, (info?.dataOffset ?? 0) + 1000),
    speech.subarray(44, 1044),
    'the bytes are the speech',
  );

  const p2 = call.record({ name: 'reply-2', terminateOn: '#', maxDurationSeconds: 60 });
  await caller.silence(1200);
  await caller.pressKeys('#', { gapMs: 0 });
  const r2 = await p2;
  t.equal(r2.outcome, 'done', 'ended by the terminate key');
  t.equal(r2.durationSeconds, 1);

  const r3 = await call.record({ name: 'reply-3', maxDurationSeconds: 2, format: 'ulaw' });
  t.equal(r3.durationSeconds, 2, 'ended by the maximum duration');
  t.equal((await control.fetchRecording('reply-3')).length, 16000, 'two seconds of mu-law');

  const r4 = await call.record({ name: 'bad/name' }).catch((e: { code: string }) => e.code);
  t.equal(r4, 'TELEPHONY_INVALID_INPUT');
  const r5 = await call.record({ name: 'reply-5', format: 'gsm' });
  t.equal(r5.outcome, 'failed', 'a format the system lacks fails');
  await call.hangup();
});

t.test('a recording running when the caller hangs up is kept', async (t) => {
  const { sim, control } = await setup(t);
  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  void caller.speak(wav(1500)).then(() => caller.hangup());
  const rec = await call.record({ name: 'last-words', maxDurationSeconds: 60 });
  t.equal(rec.outcome, 'done');
  t.equal(rec.durationSeconds, 1);
  const ms = sim.recording('last-words')?.durationMs ?? 0;
  t.ok(ms >= 1500 && ms < 2000, `the speech and the moment after it (${ms} ms)`);
});

t.test('outbound callees: answers and presses 1, busy, no answer, machine, unreachable', async (t) => {
  const { sim, control } = await setup(t);
  const alice = sim.setCallee('+15550100102', {
    behavior: 'answer',
    answerAfterMs: 500,
    keys: [{ afterMs: 300, digits: '1' }],
  });
  sim.setCallee('+15550100103', { behavior: 'busy' });
  sim.setCallee('+15550100104', { behavior: 'no-answer' });
  sim.setCallee('PJSIP/+15550100105@trunk', { behavior: 'machine', answerAfterMs: 200, greetingMs: 3000 });
  sim.setCallee('+15550100106', { behavior: 'unreachable' });
  const answeredCaller = alice.nextCall();
  const r = await control.originate({
    endpoint: 'PJSIP/+15550100102@trunk',
    callerId: '"Alice" <+15550100101>',
    variables: { ALERT_ID: '7' },
  });
  if (r.status !== 'answered') throw new Error(r.status);
  const callee = await answeredCaller;
  t.equal(callee.direction, 'outbound');
  t.equal(callee.variable('ALERT_ID'), '7');
  const key = await new Promise<string>((resolve) => r.call.onDtmf((d) => resolve(d)));
  t.equal(key, '1', 'the callee pressed 1');
  t.match(alice.attempts, [{ outcome: 'answered', callerId: { name: 'Alice', number: '+15550100101' } }]);
  await r.call.hangup();
  t.equal((await callee.ended).by, 'app');

  const busy = await control.originate({ endpoint: 'PJSIP/+15550100103@trunk' });
  t.match(busy, { status: 'busy', cause: 17 });
  const none = await control.originate({ endpoint: 'PJSIP/+15550100104@trunk', timeoutSeconds: 5 });
  t.match(none, { status: 'no-answer', cause: 19 });
  t.equal(sim.callee('+15550100104').attempts[0]?.outcome, 'no-answer');
  const gone = await control.originate({ endpoint: 'PJSIP/+15550100106@trunk' });
  t.match(gone, { status: 'failed', cause: 20 });
  const bad = await control.originate({ endpoint: 'Carrier-Pigeon/x' }).catch((e: { code: string }) => e.code);
  t.equal(bad, 'TELEPHONY_INVALID_INPUT');
  const refused = await control.originate({ endpoint: 'DAHDI/g1/555' });
  t.equal(refused.status, 'failed', 'an originate Asterisk refuses fails as a value');

  const m = await control.originate({ endpoint: 'PJSIP/+15550100105@trunk' });
  if (m.status !== 'answered') throw new Error(m.status);
  const greeting = await m.call.record({ name: 'amd-1', maxSilenceSeconds: 1, maxDurationSeconds: 30 });
  t.equal(greeting.durationSeconds, 3, "the machine's greeting is what the app hears");
  await m.call.hangup();
});

t.test('no application connected: a call cannot be put straight into it; bad numbers are refused', async (t) => {
  const sim = await simulator(t);
  t.throws(() => sim.placeCall({ from: '+15550100101', to: '100', app: 'phoneim' }), {
    code: 'SIM_APP_NOT_REGISTERED',
  });
  sim.softswitch.registerApp('phoneim');
  t.throws(() => sim.placeCall({ from: '+15550100101', to: '1 0 0' }), { code: 'SIM_INVALID_INPUT' });
  const late = sim.callee('nobody').nextCall(20);
  await t.rejects(late, { code: 'SIM_TIMEOUT' });
});

t.test('one playback of three URIs: the caller hears each in turn; a key stops the rest unheard', async (t) => {
  const { sim, control } = await setup(t);
  const prompts = await promptServer(t, {
    '/tts/count-0001-abcdef.wav': [wav(300)],
    '/tts/first-0002-abcdef.wav': [wav(3000)],
    '/tts/options-0003-abcdef.wav': [wav(300)],
  });
  const got = nextCall(control);
  const bob = sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  const played = await call.play([
    `sound:${prompts.url('/tts/count-0001-abcdef.wav')}`,
    `sound:${prompts.url('/tts/first-0002-abcdef.wav')}`,
    `sound:${prompts.url('/tts/options-0003-abcdef.wav')}`,
  ]);
  const count = await bob.nextPlayback();
  t.match(count.media, /count-0001/);
  const first = await bob.nextPlayback();
  t.match(first.media, /first-0002/);
  t.equal(first.id, count.id, 'one ARI playback');
  t.equal((await count.done).state, 'done', 'the count was heard out');
  await bob.pressKeys('6');
  t.equal(await played.done, 'stopped');
  t.ok((await first.done).bargedIn, 'the message was cut by the key');
  t.same(
    bob.playbacks.map((p) => p.media.replace(/.*\/tts\/(\w+)-.*/, '$1')),
    ['count', 'first'],
    'the options were never heard',
  );
  await t.rejects(call.play([]), { code: 'TELEPHONY_INVALID_INPUT' });
  await t.rejects(call.play(['sound:a,b']), { code: 'TELEPHONY_INVALID_INPUT' });
  await bob.hangup();
});
