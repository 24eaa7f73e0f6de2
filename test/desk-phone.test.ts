/**
 * Presence from the desk phone, read as a transcript: Bob's desk phone (a
 * simulator device tied to Bob in his device registry) goes in use on an
 * ordinary call; Alice's web page, her WAP page and the API show Bob "on the
 * phone"; a message to Bob while the desk phone is busy skips the call-back
 * to that number and reaches his email; the phone hangs up and Bob is back to
 * what his links say. Then the AMI connection drops twice: presence follows
 * without a flap.
 */
import t from 'tap';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform, until, WsClient } from './support/presence.js';
import { startSmtp } from './support/notify.js';

const DESK = 'PJSIP/bob-desk';

t.test('Bob on his desk phone is "on the phone" to Alice, is not called back there, and comes back', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const { platform, url } = await startPlatform(t, {
    overrides: {
      sim: { speedFactor: 50 },
      notify: { smtp: { port: smtp.port }, collectDelaySeconds: 0 },
      telephony: { reconnectInitialMs: 50, reconnectMaxMs: 200 },
    },
  });
  const sim = platform.sim;
  if (!sim) throw new Error('no simulator');
  const { accounts, notifier, presence, telephony } = platform.services;
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const desk = await accounts.addDevice('bob', {
    kind: 'phone',
    address: '+1 555 010 0199',
    label: 'desk',
    asteriskDevice: DESK,
  });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.org' });
  const control = sim.controlUrl as string;
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${control}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.controlToken}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  // Alice is on the web (HTML and WAP) and on the API with a WebSocket; Bob has no link: offline.
  const api = await ApiClient.login(url, 'alice');
  const ws = await WsClient.connect(url, api.token);
  const page = new HtmlClient(url);
  await page.login('alice');
  const wap = new HtmlClient(url, 'text/vnd.wap.wml');
  await wap.login('alice');
  const bobOnApi = async () =>
    (
      (await api.call('GET', '/api/v1/contacts')).body as {
        contacts: { userId: number; presence: { state: string } }[];
      }
    ).contacts.find((c) => c.userId === bob)?.presence.state;
  const bobOnPage = async () =>
    new RegExp(`data-presence-user="${bob}">([^<]+)<`).exec(await page.get('/buddies'))?.[1];
  // A WAP phone keeps its session in the URL (the deck it landed on after logging in).
  const wapBuddies = wap.url;
  const bobOnWap = async () => /Bob: ([a-z ]+)/.exec(await wap.get(wapBuddies))?.[1]?.trim();
  t.equal(await bobOnApi(), 'offline');

  // Bob lifts his desk phone and dials a colleague (a call that never reaches our application).
  const lifted = await post('/sim/calls', { from: '201', to: '+15550100777', device: DESK, toApp: false });
  const frame = await ws.next((f) => f.type === 'presence' && (f.presence as { userId: number }).userId === bob);
  t.match(frame.presence, { userId: bob, state: 'on-the-phone' }, 'Alice hears it live on her WebSocket');
  t.equal(await bobOnApi(), 'on-the-phone', 'the API shows Bob on the phone');
  t.equal(await bobOnPage(), 'on the phone', "Alice's web page shows Bob on the phone");
  t.equal(await bobOnWap(), 'on the phone', 'and her WAP page too');
  t.same(presence.linksOf(bob), [], 'the desk phone is not a link: nothing is delivered to it');

  // Alice writes to Bob while his desk phone is busy: no call-back to it, the ladder goes on to his email.
  const session = (await api.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string };
  await api.call('POST', `/api/v1/sessions/${session.id}/messages`, { text: 'Lunch at one?' });
  await until(() => smtp.mails.length === 1, 20_000);
  t.same(smtp.rcpt[0], ['bob@example.org']);
  await notifier.idle();
  const [alert] = await notifier.list({ user: 'bob' });
  t.match((await notifier.show(alert?.id as string)).steps, [
    { channel: 'call', deviceId: desk.id, state: 'skipped', outcome: `busy on another call (${DESK} in use)` },
    { channel: 'email', state: 'delivered' },
  ]);
  t.same(
    sim.softswitch.attempts.map((a) => a.callee),
    [],
    'nothing rang: the busy desk phone was not called back',
  );

  // Bob opens the web on his computer while still on the desk phone: still "on the phone".
  const bobPage = new HtmlClient(url);
  await bobPage.login('bob');
  t.equal(await bobOnApi(), 'on-the-phone', 'a web page open does not hide the call he is on');

  // The AMI connection drops and comes back: the states are read afresh, Bob's presence does not blink.
  const framesOfBob = () =>
    ws.frames.filter((f) => f.type === 'presence' && (f.presence as { userId: number }).userId === bob).length;
  const before = framesOfBob();
  const logins = telephony.deviceStates.logins;
  sim.ami.dropConnections();
  await until(() => telephony.deviceStates.logins > logins, 10_000);
  // A change after the re-login is heard after the fresh lists: when it is, they have been applied.
  sim.setDeviceState('PJSIP/carol-desk', 'INUSE');
  await until(() => telephony.deviceStates.snapshot().get('PJSIP/carol-desk') === 'INUSE', 10_000);
  t.equal(framesOfBob(), before, 'no offline/online blip for Bob across the reconnect');
  t.equal(await bobOnApi(), 'on-the-phone');

  // The connection drops again and Bob hangs up meanwhile: the fresh list brings him back, once.
  const again = telephony.deviceStates.logins;
  sim.ami.dropConnections();
  await post(`/sim/calls/${lifted.channelId}/hangup`);
  await until(() => telephony.deviceStates.logins > again, 10_000);
  const back = await ws.next((f) => {
    const p = f.presence as { userId: number; state: string } | undefined;
    return f.type === 'presence' && p?.userId === bob && p.state === 'online';
  });
  t.match(back.presence, { userId: bob, state: 'online' }, 'Bob is back to what his link says: online');
  t.equal(framesOfBob(), before + 1, 'one change, not a flap');
  t.equal(await bobOnPage(), 'online');
  t.same(await presence.deviceCallsOf(bob), []);
  await ws.close();
});
