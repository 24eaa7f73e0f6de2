import t from 'tap';
import type { Call } from '../../src/telephony/port.js';
import { adapter, simulator, until } from '../telephony/support.js';

t.test('the control API places a call, presses keys, speaks, scripts callees and hangs up', async (t) => {
  const sim = await simulator(t, { controlPort: 0 });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const base = sim.controlUrl as string;
  const auth = { authorization: `Bearer ${sim.controlToken}` };
  const json = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
  };
  const got = new Promise<Call>((resolve) => control.onCall(resolve));
  const placed = await json('POST', '/sim/calls', { from: '+15550100101', to: '100', name: 'Bob' });
  t.equal(placed.status, 201);
  const id = placed.body.channelId as string;
  const call = await got;
  t.equal(call.id, id);
  const digits: string[] = [];
  call.onDtmf((d) => digits.push(d));
  t.equal((await json('POST', `/sim/calls/${id}/keys`, { digits: '12#', gapMs: 10 })).status, 202);
  await until('keys', () => digits.length === 3);
  await call.play('digits:42');
  const view = await json('GET', `/sim/calls/${id}`);
  t.match(view.body, { number: '+15550100101', keysPressedCount: 3, playbacks: [{ media: 'digits:42' }] });
  t.match((await json('GET', '/sim/calls')).body, [{ channelId: id }]);
  t.match((await json('GET', '/sim/status')).body, { app: 'phoneim', calls: 1, webSockets: 1 });
  const wav = (await import('../telephony/support.js')).wav(200);
  const wavHeaders = { 'content-type': 'audio/wav', ...auth };
  const speech = await fetch(`${base}/sim/calls/${id}/speech`, { method: 'POST', body: wav, headers: wavHeaders });
  t.equal(speech.status, 202);
  const badSpeech = await fetch(`${base}/sim/calls/${id}/speech`, {
    method: 'POST',
    body: 'nope',
    headers: wavHeaders,
  });
  t.equal(badSpeech.status, 400);
  t.match(await badSpeech.json(), { error: { code: 'SIM_BAD_AUDIO' } });
  t.match((await json('POST', `/sim/calls/${id}/keys`, { digits: 'x' })).body, {
    error: { code: 'SIM_INVALID_INPUT' },
  });
  t.match((await json('POST', '/sim/calls', { from: '+1', to: '1 0' })).body, { error: { code: 'SIM_INVALID_INPUT' } });
  t.match((await json('POST', '/sim/calls', { to: '100' })).body, { error: { code: 'SIM_INVALID_INPUT' } });
  t.match((await json('POST', '/sim/calls/none/hangup')).body, { error: { code: 'SIM_CALL_NOT_FOUND' } });
  const hung = await json('POST', `/sim/calls/${id}/hangup`);
  t.match(hung.body, { by: 'caller', cause: 16 });
  await call.ended;
  t.equal((await json('GET', `/sim/calls/${id}`)).status, 404);

  t.equal((await json('PUT', '/sim/callees/+15550100102', { behavior: 'busy' })).status, 200);
  t.match((await json('PUT', '/sim/callees/x', { behavior: 'sleepy' })).body, { error: { code: 'SIM_INVALID_INPUT' } });
  t.match(await control.originate({ endpoint: 'PJSIP/+15550100102@trunk' }), { status: 'busy' });
  t.match((await json('GET', '/sim/attempts')).body, [{ callee: '+15550100102', outcome: 'busy' }]);
  t.equal((await json('PUT', `/sim/devices/${encodeURIComponent('PJSIP/bob-desk')}`, { state: 'INUSE' })).status, 200);
  t.equal(sim.softswitch.deviceStates.get('PJSIP/bob-desk'), 'INUSE');
});

t.test(
  'the control API wants its token, takes JSON only as application/json, sends no CORS, never shows keys',
  async (t) => {
    const sim = await simulator(t, { controlPort: 0, controlToken: 'a-token-for-this-test-only' });
    const control = adapter(t, sim.ariUrl);
    await control.ready();
    const base = sim.controlUrl as string;
    t.equal(sim.controlToken, 'a-token-for-this-test-only');
    const place = JSON.stringify({ from: '+15550100101', to: '100' });
    const noToken = await fetch(`${base}/sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: place,
    });
    t.equal(noToken.status, 401, 'no token: refused');
    t.match(await noToken.json(), { error: { code: 'SIM_UNAUTHORIZED' } });
    const wrong = await fetch(`${base}/sim/status`, { headers: { authorization: 'Bearer not-the-token' } });
    t.equal(wrong.status, 401, 'a wrong token: refused');
    t.equal(sim.callers.size, 0, 'no call was placed');

    // What a web page can send cross-origin without a preflight: JSON as text/plain, with the token guessed right.
    const asText = await fetch(`${base}/sim/calls?token=a-token-for-this-test-only`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: place,
    });
    t.equal(asText.status, 415, 'JSON as text/plain: 415');
    t.match(await asText.json(), { error: { code: 'SIM_UNSUPPORTED_MEDIA_TYPE' } });
    t.equal(sim.callers.size, 0, 'still no call');
    const preflight = await fetch(`${base}/sim/calls`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    t.notOk(preflight.headers.get('access-control-allow-origin'), 'no CORS on a preflight');

    const got = new Promise<Call>((resolve) => control.onCall(resolve));
    const placed = await fetch(`${base}/sim/calls?token=a-token-for-this-test-only`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: place,
    });
    t.equal(placed.status, 201, 'the token in the query works (EventSource-style)');
    t.notOk(placed.headers.get('access-control-allow-origin'), 'no CORS on an answer');
    const { channelId } = (await placed.json()) as { channelId: string };
    const call = await got;
    const digits: string[] = [];
    call.onDtmf((d) => digits.push(d));
    const headers = { 'content-type': 'application/json', authorization: 'Bearer a-token-for-this-test-only' };
    const keys = await fetch(`${base}/sim/calls/${channelId}/keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ digits: '2468#' }),
    });
    t.equal(keys.status, 202);
    const keysText = await keys.text();
    t.notMatch(keysText, /2468/, 'the keys are not echoed');
    await until('keys', () => digits.length === 5);
    const listed = await (await fetch(`${base}/sim/calls`, { headers })).text();
    const one = await (await fetch(`${base}/sim/calls/${channelId}`, { headers })).text();
    t.notMatch(listed, /2468/, 'nor listed');
    t.notMatch(one, /2468/, 'nor shown');
    t.match(JSON.parse(one), { keysPressedCount: 5 });
    const callee = await fetch(`${base}/sim/callees/+15550100102`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ behavior: 'answer', keys: [{ afterMs: 10, digits: '1357#' }] }),
    });
    t.equal(callee.status, 200);
    t.notMatch(await callee.text(), /1357/, "a callee's scripted keys are not echoed");
    const wavAsForm = await fetch(`${base}/sim/calls/${channelId}/speech`, {
      method: 'POST',
      headers: { authorization: headers.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    t.equal(wavAsForm.status, 415, 'speech must be audio/wav');
    await call.hangup();
  },
);
