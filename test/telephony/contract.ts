/**
 * The call-control contract: what the IVR and the notifier rely on, run
 * through ari-client against the simulator (every `make test`) and against a
 * real Asterisk when one is configured. The far end is scripted by a FarEnd:
 * virtual callers on the simulator, the test contexts of
 * dialplan/extensions.conf (phoneim-test) on Asterisk.
 */
import type { Test } from 'tap';
import type { AmiDeviceStates } from '../../src/telephony/ami-device-states.js';
import type { Call, CallControl, DeviceStateEvent } from '../../src/telephony/port.js';
import { eventually } from '../support/env.js';

export interface FarEnd {
  /** Answers, sends DTMF 1234# about a second later, talks for a while, stays until hung up. */
  talker: string;
  /** Answers, then hangs up about 2 seconds later. */
  hangsUp: string;
  busy: string;
  noAnswer: string;
  /** Seconds to give originate for the no-answer case. */
  noAnswerTimeoutSeconds: number;
  /** A caller dials `to` from `from`: it reaches the application as an inbound call. */
  callIn(from: string, to: string): Promise<void>;
  /** The events WebSocket drops (and comes back). */
  dropEvents(): void;
  /** A long http:// prompt URL (8 kHz WAV) Asterisk can fetch. */
  promptUrl: string;
  /** A URL that answers 404. */
  missingUrl: string;
}

export function contractSuite(t: Test, make: (t: Test) => Promise<{ control: CallControl; far: FarEnd }>): void {
  const answered = async (control: CallControl, far: FarEnd, endpoint: string) => {
    const r = await control.originate({
      endpoint,
      callerId: '"Phone IM" <+15550100000>',
      timeoutSeconds: 20,
      variables: { PHONEIM_ALERT: 'a-1' },
      appArgs: ['reverse-logon', 'a-1'],
    });
    if (r.status !== 'answered') throw new Error(`expected an answer from ${endpoint}, got ${r.status}`);
    void far;
    return r.call;
  };

  t.test('originate, answer, play an http prompt, DTMF, record, fetch, hang up', async (t) => {
    const { control, far } = await make(t);
    const call = await answered(control, far, far.talker);
    t.equal(call.direction, 'outbound');
    t.same(call.args, ['reverse-logon', 'a-1'], 'app args reach the call');
    t.equal(call.variables.PHONEIM_ALERT, 'a-1');
    t.ok(call.isAlive);
    const digits: [string, number][] = [];
    call.onDtmf((d, ms) => digits.push([d, ms]));
    const pb = await call.play(`sound:${far.promptUrl}`, { bargeIn: false });
    t.equal(await pb.done, 'finished', 'the http prompt plays to its end');
    const rec = await call.record({ name: `contract-${Date.now()}`, maxDurationSeconds: 3, terminateOn: 'none' });
    t.equal(rec.outcome, 'done');
    t.ok(rec.durationSeconds >= 1 && rec.durationSeconds <= 3, `whole seconds (${rec.durationSeconds})`);
    t.same(
      digits.map((d) => d[0]),
      ['1', '2', '3', '4', '#'],
      'DTMF arrives in order, from the far half only',
    );
    t.ok(
      digits.every(([, ms]) => ms >= 80),
      'each digit carries its duration',
    );
    const file = await control.fetchRecording(rec.name);
    t.equal(file.toString('ascii', 0, 4), 'RIFF', 'the stored recording is a WAV file');
    await control.deleteRecording(rec.name);
    await t.rejects(control.fetchRecording(rec.name), { code: 'TELEPHONY_RECORDING_NOT_FOUND' });
    await call.hangup();
    const end = await call.ended;
    t.equal(end.by, 'local');
    t.equal(end.cause, 16);
    t.notOk(call.isAlive);
    t.ok(call.signal.aborted);
  });

  t.test('a failing prompt URL ends the playback as failed, the call goes on', async (t) => {
    const { control, far } = await make(t);
    const call = await answered(control, far, far.talker);
    const pb = await call.play(`sound:${far.missingUrl}`, { bargeIn: false });
    t.equal(await pb.done, 'failed');
    t.ok(call.isAlive);
    await call.hangup();
  });

  t.test('the far end hangs up; requests after that resolve quietly', async (t) => {
    const { control, far } = await make(t);
    const call = await answered(control, far, far.hangsUp);
    const end = await call.ended;
    t.equal(end.by, 'remote');
    const pb = await call.play('digits:123');
    t.equal(await pb.done, 'hangup', 'playing to a gone channel is a hang-up, not an error');
    t.equal((await call.record({ name: `gone-${Date.now()}` })).outcome, 'hangup');
    await call.answer();
    await call.setVariable('X', '1');
    await call.hangup();
  });

  t.test('busy and no answer', async (t) => {
    const { control, far } = await make(t);
    const busy = await control.originate({ endpoint: far.busy });
    t.equal(busy.status, 'busy');
    const none = await control.originate({ endpoint: far.noAnswer, timeoutSeconds: far.noAnswerTimeoutSeconds });
    t.equal(none.status, 'no-answer');
    if (none.status !== 'answered') t.equal(none.cause, 19);
  });

  t.test('an inbound call reaches onCall with its caller ID and dialled number', async (t) => {
    const { control, far } = await make(t);
    const got = new Promise<Call>((resolve) => {
      const off = control.onCall((c) => {
        off();
        resolve(c);
      });
    });
    await far.callIn('+15550100101', '100');
    const call = await got;
    t.equal(call.direction, 'inbound');
    t.equal(call.callerNumber, '+15550100101');
    t.equal(call.dialed, '100');
    await call.answer();
    await call.hangup();
    t.equal((await call.ended).by, 'local');
  });

  t.test('the events WebSocket drops mid-call; the adapter reconnects and the call goes on', async (t) => {
    const { control, far } = await make(t);
    const call = await answered(control, far, far.talker);
    far.dropEvents();
    const start = Date.now();
    while (!control.isConnected || Date.now() - start < 50) {
      if (Date.now() - start > 10_000) throw new Error('no reconnect');
      await new Promise((r) => setTimeout(r, 10));
    }
    t.ok(call.isAlive, 'the call survived the drop');
    const pb = await call.play('digits:12', { bargeIn: false });
    t.equal(await pb.done, 'finished', 'events flow again');
    await call.hangup();
    t.equal((await call.ended).by, 'local');
  });
}

/** A desk phone on the far end, as AMI reports it. */
export interface DeskPhone {
  /** Its device: 'PJSIP/bob-desk' on the simulator, 'Custom:phoneim-test-desk' on Asterisk. */
  device: string;
  /** Its hint, exten@context. */
  hint: string;
  /** Puts the phone in a call (true) or back to idle (false). */
  inUse(on: boolean): Promise<void>;
}

/**
 * The device-state contract: what presence relies on, through
 * asterisk-manager against the simulator and a real Asterisk. A change is
 * heard for the device and its hint; a reconnect reads the states afresh and
 * repeats nothing that did not change.
 */
export function deviceStateContract(
  t: Test,
  make: (t: Test) => Promise<{ source: AmiDeviceStates; desk: DeskPhone }>,
): void {
  t.test('a desk phone in use and idle again, across a reconnect', async (t) => {
    const { source, desk } = await make(t);
    const heard: DeviceStateEvent[] = [];
    source.onDeviceState((e) => {
      if (e.device === desk.device || e.device === desk.hint) heard.push(e);
    });
    const settled = (what: string, state: DeviceStateEvent['state']) =>
      eventually(
        () => {
          const snap = source.snapshot();
          if (snap.get(desk.device) !== state || snap.get(desk.hint) !== state)
            throw new Error(`${what}: ${JSON.stringify([...snap])}`);
        },
        { timeoutMs: 10_000 },
      );
    await desk.inUse(false);
    await settled('idle at first', 'NOT_INUSE');
    heard.length = 0;
    await desk.inUse(true);
    await settled('in use', 'INUSE');
    t.same(
      heard.map((e) => e.state),
      ['INUSE', 'INUSE'],
      'the device and its hint are heard once each',
    );
    const logins = source.logins;
    source.reconnect();
    await eventually(
      () => {
        if (source.logins === logins || !source.isLoggedIn) throw new Error('no AMI reconnect');
      },
      { timeoutMs: 15_000 },
    );
    await desk.inUse(false);
    await settled('idle again', 'NOT_INUSE');
    t.same(
      heard.map((e) => e.state),
      ['INUSE', 'INUSE', 'NOT_INUSE', 'NOT_INUSE'],
      'the reconnect repeated nothing; going idle is heard once each',
    );
  });
}
