import t from 'tap';
import type { Call } from '../../src/telephony/port.js';
import { adapter, simulator, until } from '../telephony/support.js';

t.test('the control API places a call, presses keys, speaks, scripts callees and hangs up', async (t) => {
  const sim = await simulator(t, { controlPort: 0 });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const base = sim.controlUrl as string;
  const json = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
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
  t.match(view.body, { number: '+15550100101', keysPressed: '12#', playbacks: [{ media: 'digits:42' }] });
  t.match((await json('GET', '/sim/calls')).body, [{ channelId: id }]);
  t.match((await json('GET', '/sim/status')).body, { app: 'phoneim', calls: 1, webSockets: 1 });
  const wav = (await import('../telephony/support.js')).wav(200);
  const speech = await fetch(`${base}/sim/calls/${id}/speech`, { method: 'POST', body: wav });
  t.equal(speech.status, 202);
  const badSpeech = await fetch(`${base}/sim/calls/${id}/speech`, { method: 'POST', body: 'nope' });
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
