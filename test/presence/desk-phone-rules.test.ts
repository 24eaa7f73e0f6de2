/**
 * The rules of presence from the desk phone, as Alice sees Bob through the
 * API while Bob's phones change state on the PBX (the simulator's control
 * API) and Bob chooses his presence through the API.
 */
import t from 'tap';
import { ApiClient, befriend, makeUsers, startPlatform, until, WsClient } from '../support/presence.js';

t.test(
  'in use, busy and on hold are "on the phone"; ringing and unplugged are not; busy and invisible are kept',
  async (t) => {
    const { platform, url } = await startPlatform(t, { overrides: { sim: { speedFactor: 50 } } });
    const sim = platform.sim;
    if (!sim) throw new Error('no simulator');
    const { accounts, presence } = platform.services;
    const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
    await befriend(platform, [alice, bob]);
    await accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 0199', asteriskDevice: 'PJSIP/bob-desk' });
    // His second phone is followed through its hint: the hint's state, not the device's, counts.
    sim.addHint('202', 'phoneim-hints', 'PJSIP/bob-lab');
    await accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 0198', asteriskDevice: '202@phoneim-hints' });
    const aliceApi = await ApiClient.login(url, 'alice');
    const bobApi = await ApiClient.login(url, 'bob');
    const bobWs = await WsClient.connect(url, bobApi.token);
    t.teardown(() => bobWs.close());
    const seen = async () =>
      (
        (await aliceApi.call('GET', '/api/v1/contacts')).body as {
          contacts: { userId: number; presence: { state: string } }[];
        }
      ).contacts.find((c) => c.userId === bob)?.presence.state;
    const device = async (name: string, state: string) => {
      const res = await fetch(`${sim.controlUrl}/sim/devices/${encodeURIComponent(name)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.controlToken}` },
        body: JSON.stringify({ state }),
      });
      t.equal(res.status, 200);
    };
    const becomes = async (state: string) => {
      await until(async () => (await presence.presenceOf(bob)).state === state, 10_000);
      t.equal(await seen(), state, `Alice sees Bob ${state}`);
    };

    await becomes('online');
    for (const state of ['INUSE', 'BUSY', 'ONHOLD', 'RINGINUSE']) {
      await device('PJSIP/bob-desk', state);
      await becomes('on-the-phone');
      await device('PJSIP/bob-desk', 'NOT_INUSE');
      await becomes('online');
    }
    await device('PJSIP/bob-desk', 'RINGING');
    await device('PJSIP/bob-lab', 'UNAVAILABLE');
    await device('PJSIP/carol-desk', 'INUSE');
    // The last change is heard after the two before it: when Carol's is, Bob's have been applied.
    await until(() => platform.services.deviceStates.snapshot().get('PJSIP/carol-desk') === 'INUSE', 10_000);
    t.equal(await seen(), 'online', 'a ringing desk phone and an unplugged one change nothing');

    await device('PJSIP/bob-lab', 'INUSE');
    await becomes('on-the-phone');
    t.same(await presence.deviceCallsOf(bob), ['202@phoneim-hints'], 'through the hint');

    t.equal((await bobApi.call('PUT', '/api/v1/presence', { state: 'busy' })).status, 200);
    await becomes('busy');
    t.equal((await bobApi.call('PUT', '/api/v1/presence', { state: 'offline' })).status, 200);
    await becomes('offline');
    t.equal((await bobApi.call('PUT', '/api/v1/presence', { state: 'away' })).status, 200);
    await becomes('on-the-phone');
    await device('PJSIP/bob-lab', 'NOT_INUSE');
    await becomes('away');

    // A phone tied to Bob after it went busy counts from its next change.
    await device('PJSIP/bob-mobile', 'INUSE');
    const mobile = await accounts.addDevice('bob', { kind: 'phone', address: '+1 555 010 0197' });
    await accounts.setDevice('bob', mobile.id, { asteriskDevice: 'PJSIP/bob-mobile' });
    await device('PJSIP/bob-mobile', 'ONHOLD');
    await becomes('on-the-phone');
    await accounts.setDevice('bob', mobile.id, { asteriskDevice: null });
    await device('PJSIP/bob-mobile', 'NOT_INUSE');
    await becomes('away');
  },
);
