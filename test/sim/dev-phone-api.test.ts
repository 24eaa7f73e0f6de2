/**
 * The dev phone's server side, from outside over HTTP: the page and its files
 * are served, everything else wants the control token; the event stream
 * carries the simulator's ARI events without the digits pressed; only audio
 * the simulator is playing is served; a claimed number rings the stream's
 * page, can be answered or declined, and is given back when the page goes.
 */
import t from 'tap';
import { writeWav } from '../../src/sim/wav.js';
import { adapter, nextCall, simulator, until } from '../telephony/support.js';

const TOKEN = 'dev-phone-test-token-0123456789';

/** Reads Server-Sent Events from a stream into a list. */
async function listen(url: string): Promise<{ events: { event: string; data: unknown }[]; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`event stream: ${res.status}`);
  const events: { event: string; data: unknown }[] = [];
  const reader = res.body.getReader();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += Buffer.from(value as Uint8Array).toString('utf8');
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  return { events, close: () => abort.abort() };
}

t.test('the page, its token, its events, its audio and the numbers it rings', async (t) => {
  const sounds = t.testdir({ 'hello.wav': writeWav(Buffer.alloc(8000 * 2), 8000) });
  const sim = await simulator(t, { controlPort: 0, controlToken: TOKEN, soundsDir: sounds });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  const base = sim.controlUrl as string;
  t.equal(sim.devPhoneUrl, `${base}/dev/phone?token=${TOKEN}`, 'its URL carries the token');

  const page = await fetch(`${base}/dev/phone`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  t.match(await page.text(), /<title>Dev phone/);
  t.match((await fetch(`${base}/dev/phone/phone.js`)).headers.get('content-type'), /javascript/);
  t.equal((await fetch(`${base}/dev/phone/events`)).status, 401, 'no events without the token');
  t.equal((await fetch(`${base}/dev/phone/events?token=nope`)).status, 401);
  t.equal((await fetch(`${base}/dev/phone/events?token=${TOKEN}&claim=%3Cb%3E`)).status, 400, 'a claim is a number');

  const stream = await listen(`${base}/dev/phone/events?token=${TOKEN}&claim=%2B15550100101`);
  t.teardown(stream.close);
  await until('hello', () => stream.events.length > 0);
  t.match(stream.events[0], { event: 'hello', data: { speedFactor: 20, app: 'phoneim', claim: '+15550100101' } });

  const got = nextCall(control);
  const caller = sim.placeCall({ from: '+15550100102', to: '100' });
  const call = await got;
  const played = await call.play('sound:hello', { bargeIn: false });
  const media = (uri: string) => fetch(`${base}/dev/phone/media?token=${TOKEN}&uri=${encodeURIComponent(uri)}`);
  const audio = await media('sound:hello');
  t.equal(audio.status, 200, 'the audio being played is served');
  t.equal(audio.headers.get('content-type'), 'audio/wav');
  t.equal(Buffer.from(await audio.arrayBuffer()).length, 44 + 16000, 'the same bytes');
  await played.done;
  t.equal((await media('sound:http://127.0.0.1:1/not-playing-anywhere.wav')).status, 404, 'nothing else: no proxy');
  t.equal((await media('recording:none')).status, 404);
  await caller.pressKeys('42');
  await until('keys in the stream', () =>
    stream.events.some((e) => (e.data as { type?: string }).type === 'ChannelDtmfReceived'),
  );
  const dtmf = stream.events.filter((e) => (e.data as { type?: string }).type === 'ChannelDtmfReceived');
  t.notOk(
    dtmf.some((e) => 'digit' in (e.data as object)),
    'the digits pressed are left out',
  );
  t.ok(
    stream.events.some((e) => (e.data as { type?: string }).type === 'PlaybackStarted'),
    'playbacks are in the stream',
  );
  await caller.hangup();

  // The claimed number rings the page until it answers.
  const first = control.originate({ endpoint: 'PJSIP/+15550100101@trunk', timeoutSeconds: 30 });
  await until('ringing', () => stream.events.some((e) => e.event === 'ringing'));
  const ringing = stream.events.find((e) => e.event === 'ringing')?.data as { channelId: string; callee: string };
  t.equal(ringing.callee, '+15550100101');
  const answer = (id: string, verb: string) =>
    fetch(`${base}/dev/phone/ringing/${id}/${verb}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal((await answer(ringing.channelId, 'answer')).status, 200, 'answered from the page');
  const r = await first;
  t.equal(r.status, 'answered');
  if (r.status === 'answered') await r.call.hangup();
  t.equal((await answer(ringing.channelId, 'answer')).status, 404, 'a call rings once');

  const second = control.originate({ endpoint: 'PJSIP/+15550100101@trunk', timeoutSeconds: 30 });
  await until('ringing again', () => stream.events.filter((e) => e.event === 'ringing').length === 2);
  const again = stream.events.filter((e) => e.event === 'ringing')[1]?.data as { channelId: string };
  t.equal((await answer(again.channelId, 'decline')).status, 200);
  t.equal((await second).status, 'busy', 'declined is busy to the application');

  stream.close();
  await until('claim given back', () => sim.softswitch.calleeOf('+15550100101') === undefined);
  t.pass('the number is no longer claimed once the page has gone');
});
