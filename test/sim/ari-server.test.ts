/** The simulator's ARI face as a raw HTTP/WebSocket client sees it: auth, Asterisk's error bodies and codes. */
import t from 'tap';
import { WebSocket } from 'ws';
import { SIM_PASSWORD, SIM_USER, simulator } from '../telephony/support.js';

const auth = { authorization: `Basic ${Buffer.from(`${SIM_USER}:${SIM_PASSWORD}`).toString('base64')}` };

async function ws(url: string): Promise<{ socket: WebSocket; events: Record<string, unknown>[] }> {
  const socket = new WebSocket(url);
  const events: Record<string, unknown>[] = [];
  socket.on('message', (d) => events.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, events };
}

t.test('authentication: Basic or api_key, 401 otherwise', async (t) => {
  const sim = await simulator(t);
  const base = `${sim.ariUrl}/ari`;
  const bad = await fetch(`${base}/channels`, {
    headers: { authorization: `Basic ${Buffer.from('phoneim:wrong').toString('base64')}` },
  });
  t.equal(bad.status, 401);
  t.match(bad.headers.get('www-authenticate'), /Basic realm="Asterisk REST Interface"/);
  t.same(await bad.json(), { message: 'Authentication required' });
  t.equal((await fetch(`${base}/channels`)).status, 401, 'no credentials');
  t.equal((await fetch(`${base}/channels?api_key=${SIM_USER}:${SIM_PASSWORD}`)).status, 200, 'api_key');
  t.equal((await fetch(`${base}/channels`, { headers: auth })).status, 200, 'Basic');
  const docs = (await (await fetch(`${base}/api-docs/resources.json`, { headers: auth })).json()) as {
    basePath: string;
  };
  t.equal(docs.basePath, base, 'basePath follows the Host the client used');
  t.equal((await fetch(`${base}/api-docs/nothing.json`, { headers: auth })).status, 404, 'undeclared resource');
  t.equal((await fetch(`${sim.ariUrl}/elsewhere`, { headers: auth })).status, 404);
  await t.rejects(ws(`ws://127.0.0.1:${sim.ariPort}/ari/events?app=phoneim&api_key=x:y`), /401/);
  await t.rejects(ws(`ws://127.0.0.1:${sim.ariPort}/ari/events?api_key=${SIM_USER}:${SIM_PASSWORD}`), /400/);
  await t.rejects(ws(`ws://127.0.0.1:${sim.ariPort}/nowhere`), /404/);
});

t.test("Asterisk's errors: 404 channel, 409 not in Stasis, 422 format, 400 reason, 405 method", async (t) => {
  const sim = await simulator(t);
  const { socket, events } = await ws(
    `ws://127.0.0.1:${sim.ariPort}/ari/events?app=phoneim&api_key=${SIM_USER}:${SIM_PASSWORD}`,
  );
  t.teardown(() => socket.terminate());
  const base = `${sim.ariUrl}/ari`;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const nf = await call('POST', '/channels/nope/answer');
  t.equal(nf.status, 404);
  t.same(await nf.json(), { message: 'Channel not found' });
  t.equal((await call('PUT', '/channels')).status, 405);
  sim.setCallee('slow', { behavior: 'answer', answerAfterMs: 60_000 });
  const ringing = (await (
    await call('POST', '/channels?endpoint=PJSIP/slow&app=phoneim&channelId=out-1', { variables: { A: 'b' } })
  ).json()) as { id: string; state: string };
  t.equal(ringing.id, 'out-1');
  t.equal(ringing.state, 'Down');
  const notStasis = await call('POST', '/channels/out-1/play?media=digits:1');
  t.equal(notStasis.status, 409);
  t.match(await notStasis.json(), { message: /not in Stasis/ });
  t.equal((await call('POST', '/channels?endpoint=PJSIP/slow&app=phoneim&channelId=out-1')).status, 409, 'id taken');
  t.equal((await call('POST', '/channels?endpoint=nonsense&app=phoneim')).status, 400);
  t.equal((await call('POST', '/channels?app=phoneim')).status, 400);
  t.equal((await call('POST', '/channels?endpoint=PJSIP/x')).status, 400, 'no app');
  t.equal((await call('GET', '/channels/out-1/variable?variable=A')).status, 200);
  t.equal((await call('GET', '/channels/out-1/variable?variable=Z')).status, 404);
  t.equal((await call('GET', '/channels/out-1/variable')).status, 400);
  t.equal((await call('DELETE', '/channels/out-1?reason=rude')).status, 400);
  t.equal((await call('DELETE', '/channels/out-1?reason_code=300')).status, 400);
  t.equal((await call('DELETE', '/channels/out-1?reason=no_answer')).status, 204);
  t.equal(sim.callee('slow').attempts[0]?.outcome, 'cancelled');

  const caller = sim.placeCall({ from: '+15550100101', to: '100' });
  const id = caller.channelId;
  t.equal((await call('GET', `/channels/${id}`)).status, 200);
  t.equal((await call('POST', `/channels/${id}/ring`)).status, 204);
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=mp3`)).status, 422);
  t.equal((await call('POST', `/channels/${id}/record?name=r`)).status, 400, 'format is required');
  t.equal((await call('POST', `/channels/${id}/record?name=../x&format=wav`)).status, 400);
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=wav&ifExists=maybe`)).status, 400);
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=wav&terminateOn=x`)).status, 400);
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=wav&maxDurationSeconds=abc`)).status, 400);
  t.equal((await call('POST', `/channels/${id}/record`, { name: 'r', format: 'wav' })).status, 201, 'body params');
  t.equal((await call('POST', `/channels/${id}/record?name=r2&format=wav`)).status, 409, 'already recording');
  t.equal((await call('GET', '/recordings/live/r')).status, 200);
  t.equal((await call('POST', '/recordings/live/r/stop')).status, 204);
  t.equal((await call('GET', '/recordings/live/r')).status, 404);
  t.equal((await call('GET', '/recordings/stored/r')).status, 200);
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=wav`)).status, 409, 'stored and ifExists=fail');
  t.equal((await call('POST', `/channels/${id}/record?name=r&format=wav&ifExists=append`)).status, 201);
  t.equal((await call('DELETE', '/recordings/live/r')).status, 204, 'cancel');
  t.same(await (await call('GET', '/recordings/stored')).json(), [{ name: 'r', format: 'wav' }]);
  t.equal((await call('DELETE', '/recordings/stored/r')).status, 204);
  t.equal((await call('DELETE', '/recordings/stored/r')).status, 404);
  t.equal((await call('GET', '/recordings/stored/r/file')).status, 404);
  t.equal((await call('POST', '/recordings/live/none/stop')).status, 404);
  t.equal((await call('DELETE', '/recordings/live/none')).status, 404);

  t.equal((await call('POST', `/channels/${id}/play/pb-1?media=tone:ring`)).status, 201);
  t.equal((await call('POST', `/channels/${id}/play/pb-1?media=tone:ring`)).status, 409, 'playback id taken');
  t.equal((await call('POST', `/channels/${id}/play?media=digits:1,digits:2&playbackId=pb-2`)).status, 201);
  t.equal((await call('POST', `/channels/${id}/play`)).status, 400);
  t.match(await (await call('GET', '/playbacks/pb-1')).json(), { state: 'playing', target_uri: `channel:${id}` });
  t.match(await (await call('GET', '/playbacks/pb-2')).json(), { state: 'queued', next_media_uri: 'digits:2' });
  t.equal((await call('DELETE', '/playbacks/pb-1')).status, 204);
  await caller.waitForPlayback((p) => p.id === 'pb-2');
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await call('GET', '/playbacks/pb-2')).status, 404, 'finished');
  t.ok(
    events.some((e) => e.type === 'PlaybackContinuing'),
    'a list of media continues',
  );
  t.equal((await call('DELETE', '/playbacks/pb-1')).status, 404);
  t.equal((await call('POST', `/channels/${id}/play?media=tone:ring&playbackId=q1`)).status, 201);
  t.equal((await call('POST', `/channels/${id}/play?media=tone:ring&playbackId=q2`)).status, 201);
  t.equal((await call('DELETE', '/playbacks/q2')).status, 204, 'a queued playback can be stopped');
  t.equal((await call('POST', '/bridges?bridgeId=b1&type=mixing')).status, 200);
  t.equal((await call('POST', '/bridges?bridgeId=b1')).status, 409, 'bridge id taken');
  t.equal((await call('POST', '/bridges?bridgeId=../x')).status, 400);
  t.equal((await call('POST', '/bridges/b1/addChannel')).status, 400, 'channel is required');
  t.equal((await call('POST', '/bridges/b1/addChannel?channel=nope')).status, 400, 'unknown channel');
  t.equal((await call('POST', '/bridges/none/addChannel?channel=x')).status, 404);
  t.equal((await call('POST', '/bridges/b1/removeChannel?channel=nope')).status, 400);
  t.equal((await call('POST', `/bridges/b1/removeChannel?channel=${id}`)).status, 422, 'not in this bridge');
  t.equal((await call('POST', `/bridges/b1/addChannel?channel=${id}`)).status, 204);
  t.match(await (await call('GET', '/bridges/b1')).json(), { id: 'b1', channels: [id] });
  t.match(await (await call('GET', '/bridges')).json(), [{ id: 'b1' }]);
  t.equal((await call('POST', '/bridges')).status, 200, 'a bridge with a generated id');
  t.equal((await call('DELETE', '/bridges/b1')).status, 204);
  t.equal((await call('GET', '/bridges/b1')).status, 404);
  t.equal((await call('POST', `/channels/${id}/variable?variable=X&value=1`)).status, 204);
  t.equal((await call('POST', `/channels/${id}/variable`)).status, 400);
  t.match(await (await call('GET', '/applications')).json(), [{ name: 'phoneim', channel_ids: [id] }]);
  t.equal((await call('GET', '/applications/other')).status, 404);
  t.match(await (await call('GET', '/asterisk/ping')).json(), { ping: 'pong' });
  const malformed = await fetch(`${base}/channels/${id}/answer`, { method: 'POST', headers: auth, body: '{oops' });
  t.equal(malformed.status, 400);
  t.equal((await fetch(`${base}/channels/%E0%A4%A`, { headers: auth })).status, 400);
  t.equal((await call('DELETE', `/channels/${id}`)).status, 204);
  t.match(await caller.ended, { by: 'app', cause: 16 });
  const req = events.find((e) => e.type === 'ChannelHangupRequest' && (e.channel as { id: string }).id === id);
  t.match(req, { cause: 32, soft: true }, 'an ARI hang-up is a soft hang-up, as Asterisk reports it');
});

t.test('a second WebSocket for the application replaces the first', async (t) => {
  const sim = await simulator(t);
  const url = `ws://127.0.0.1:${sim.ariPort}/ari/events?app=phoneim&api_key=${SIM_USER}:${SIM_PASSWORD}`;
  const first = await ws(url);
  const second = await ws(url);
  t.teardown(() => {
    first.socket.terminate();
    second.socket.terminate();
  });
  await new Promise((r) => setTimeout(r, 50));
  t.match(first.events, [{ type: 'ApplicationReplaced', application: 'phoneim' }]);
  sim.placeCall({ from: '+15550100101', to: '100' });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(first.events.length, 1, 'the replaced socket hears nothing more');
  t.match(second.events, [{ type: 'StasisStart' }]);
  first.socket.close();
  await new Promise((r) => setTimeout(r, 50));
  t.ok(sim.softswitch.isRegistered('phoneim'), 'closing the replaced socket leaves the application registered');
  sim.dropWebSockets(60_000);
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(sim.softswitch.isRegistered('phoneim'));
  await t.rejects(ws(url), /503/, 'refused while the network is down');
});
