import t from 'tap';
import { capturedLog, eventually } from '../support/env.js';
import { ApiClient, makeUsers, PASSWORD, startPlatform, until, WsClient } from '../support/presence.js';
import { ivrOnSimulator, Transcript } from '../ivr/support/sim-harness.js';

t.setTimeout(240_000);

/** Samples of a Prometheus text exposition: "name{a="1",b="2"}" (labels sorted) -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '')
      .split(/,(?=\w+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(labels ? `${m[1]}{${labels}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(res.headers.get('content-type') ?? ''))
    throw new Error(`/metrics is ${res.headers.get('content-type')}`);
  return samples(await res.text());
}

const v = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

t.test('the counters move during a simulated call and posted messages', async (t) => {
  const { url, sim, audio } = await ivrOnSimulator(t);
  const before = await scrape(url);
  t.equal(v(before, 'phoneim_calls_active'), 0, 'no call yet');
  t.equal(v(before, 'phoneim_telephony_connected{link="ari"}'), 1, 'ARI is up');
  t.equal(v(before, 'phoneim_telephony_connected{link="ami"}'), 1, 'AMI is up');
  t.ok(before.has('phoneim_nodejs_eventloop_lag_seconds'), 'event-loop lag');

  // Alice, on the web, writes to Bob, who has no link: the message is stored and an alert opened.
  const alice = await ApiClient.login(url, 'alice');
  const aliceWs = await WsClient.connect(url, alice.token);
  t.teardown(() => aliceWs.close());
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  t.equal((await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Call me back.' })).status, 201);
  await new ApiClient(url).call('POST', '/api/v1/login', { username: 'alice', password: 'not it' });
  // The alert is opened through the notifier's group commit: on its writer thread, which a busy machine starts late.
  await eventually(async () => {
    if (v(await scrape(url), 'phoneim_alerts_opened_total') !== 1) throw new Error('no alert opened yet');
  });

  // Bob calls in, keys his PIN, hears his message.
  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  const call = new Transcript(caller, audio);
  await call.hears(/^Welcome back, Bob\. Please enter your PIN/);
  await caller.pressKeys('2468#');
  await call.hears(/^You have 1 new message\.$/);
  await call.hears(/^Call me back\.$/);

  // Alice writes again while Bob listens: delivered live to his phone link.
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Are you there?' });
  const during = await scrape(url);
  t.equal(v(during, 'phoneim_calls_active'), 1, 'one call in progress');
  t.equal(v(during, 'phoneim_calls_started_total{direction="inbound"}'), 1, 'one call started');
  t.equal(v(during, 'phoneim_logons_total{channel="pin",result="ok"}'), 1, "Bob's PIN");
  t.equal(v(during, 'phoneim_logons_total{channel="password",result="ok"}'), 1, "Alice's password");
  t.equal(v(during, 'phoneim_logons_total{channel="password",result="bad-credentials"}'), 1, 'a wrong password');
  t.equal(v(during, 'phoneim_messages_stored_total{kind="text"}'), 2, 'two messages stored');
  t.ok(v(during, 'phoneim_messages_delivered_total{link="phone"}') >= 1, 'delivered to the phone link');
  t.ok(v(during, 'phoneim_delivery_latency_seconds_count') >= 1, 'a live delivery was timed');
  t.equal(v(during, 'phoneim_alerts_opened_total'), 1, 'an alert for Bob while he had no link');
  t.ok(v(during, 'phoneim_key_to_playback_seconds_count') >= 1, 'the PIN was answered by a playback');
  t.ok(v(during, 'phoneim_speech_cache_total{result="miss"}') >= 1, 'speech rendered');
  t.ok(v(during, 'phoneim_synthesis_seconds_count{engine="espeak-ng"}') >= 1, 'synthesis timed per engine');
  t.equal(v(during, 'phoneim_websockets_open'), 1, "Alice's WebSocket");

  await caller.hangup();
  const after = await eventually(async () => {
    const m = await scrape(url);
    if (v(m, 'phoneim_calls_active') !== 0) throw new Error('the call is still active');
    return m;
  });
  t.equal(v(after, 'phoneim_calls_active'), 0, 'the call is over');
  t.equal(v(after, 'phoneim_calls_ended_total{direction="inbound",outcome="hangup"}'), 1, 'ended by the caller');
});

t.test('/metrics with a token: refused without it, served with it', async (t) => {
  const token = 'a-metrics-token-of-some-length';
  const { url } = await startPlatform(t, { overrides: { http: { metricsToken: token } } });
  const bare = await fetch(`${url}/metrics`);
  t.equal(bare.status, 403);
  t.match(await bare.json(), { error: { code: 'WEB_METRICS_FORBIDDEN' } });
  const wrong = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer nope' } });
  t.equal(wrong.status, 403);
  const good = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(good.status, 200);
  t.match(await good.text(), /^# HELP phoneim_/m);
});

t.test('/ready: ready while the database and telephony are up; 503 naming the check that fails', async (t) => {
  const { platform, url } = await startPlatform(t);
  // The manager interface logs in on its own after start-up; a load balancer
  // polls until the platform says it is ready, and so does this test.
  await until(async () => (await fetch(`${url}/ready`)).status === 200);
  const ready = await fetch(`${url}/ready`);
  t.equal(ready.status, 200);
  t.same(await ready.json(), { status: 'ready', checks: { database: true, ari: true, ami: true } });
  // The PBX goes away (the simulator stops): not ready, and says why; still alive.
  await platform.sim?.close();
  await until(() => !platform.callControl.isConnected);
  const down = await fetch(`${url}/ready`);
  t.equal(down.status, 503);
  t.match(await down.json(), { error: { code: 'WEB_NOT_READY', details: { checks: { database: true, ari: false } } } });
  t.equal((await fetch(`${url}/health`)).status, 200, 'alive all the same');
});

t.test('one log line per request with its id and user; no token, password or cookie in the log', async (t) => {
  const { lines, log } = capturedLog();
  const { platform, url } = await startPlatform(t, { log });
  await makeUsers(platform, ['alice']);
  const alice = await ApiClient.login(url, 'alice');
  await alice.call('GET', '/api/v1/me');
  await fetch(`${url}/api/v1/sessions?token=${alice.token}`);
  await fetch(`${url}/buddies`, { headers: { cookie: `sid=${alice.token}` } });
  await fetch(`${url}/reply?t=secret-reply-token`);
  const audioUrl = await platform.services.audio.speechUrl('Hello there.');
  await fetch(audioUrl);
  const requests = lines.filter((l) => l.msg === 'request');
  t.ok(requests.length >= 6, `${requests.length} request lines`);
  for (const r of requests) {
    t.match(r, { reqId: String, method: String, path: String, status: Number, ms: Number });
  }
  t.match(
    requests.find((r) => r.path === '/api/v1/me'),
    { user: 'alice', status: 200 },
    'the user is named once known',
  );
  const all = lines.map((l) => JSON.stringify(l)).join('\n');
  t.notOk(all.includes(alice.token), 'no resume token, whether sent as bearer, query or cookie');
  t.notOk(all.includes(PASSWORD), 'no password');
  t.notOk(all.includes('secret-reply-token'), 'no reply-link token');
  const signature = /\/audio\/[^/]+\/[^/]+\/([^/.]+)\./.exec(audioUrl)?.[1] as string;
  t.notOk(all.includes(signature), 'no media URL signature');
  t.match(all, /\?token=\[redacted\]/);
});
