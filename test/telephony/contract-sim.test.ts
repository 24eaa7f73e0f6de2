import t from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { VirtualCaller } from '../../src/sim/index.js';
import { AmiDeviceStates } from '../../src/telephony/ami-device-states.js';
import { contractSuite, deviceStateContract } from './contract.js';
import { adapter, promptServer, SIM_PASSWORD, SIM_USER, simulator, wav } from './support.js';

contractSuite(t, async (t) => {
  const sim = await simulator(t);
  const prompts = await promptServer(t, { '/tts/prompt-0001-abcdef.wav': [wav(1500)] });
  sim.setCallee('talker', {
    behavior: 'answer',
    answerAfterMs: 100,
    keys: [{ afterMs: 1000, digits: '1234#', gapMs: 250 }],
    speech: wav(2000),
  });
  sim.setCallee('hangs-up', { behavior: 'answer', answerAfterMs: 100, hangupAfterMs: 2000 });
  sim.setCallee('busy', { behavior: 'busy' });
  sim.setCallee('noanswer', { behavior: 'no-answer' });
  const control = adapter(t, sim.ariUrl);
  await control.ready();
  return {
    control,
    far: {
      talker: 'Local/talker@phoneim-test',
      hangsUp: 'PJSIP/hangs-up',
      busy: 'Local/busy@phoneim-test',
      noAnswer: 'PJSIP/+15550100199@trunk',
      noAnswerTimeoutSeconds: 4,
      callIn: async (from, to) => {
        sim.placeCall({ from, to });
      },
      dropEvents: () => sim.dropWebSockets(100),
      promptUrl: prompts.url('/tts/prompt-0001-abcdef.wav'),
      missingUrl: prompts.url('/tts/prompt-0002-missing.wav'),
    },
  };
});

deviceStateContract(t, async (t) => {
  const sim = await simulator(t);
  sim.addHint('201', 'phoneim-hints', 'PJSIP/bob-desk');
  const source = new AmiDeviceStates({
    host: '127.0.0.1',
    port: sim.amiPort,
    user: SIM_USER,
    secret: SIM_PASSWORD,
    pingIntervalSeconds: 30,
    reconnectInitialMs: 50,
    reconnectMaxMs: 500,
    log: silentLogger(),
    clock: new SystemClock(),
  });
  t.teardown(() => source.close());
  await source.start();
  let call: VirtualCaller | undefined;
  return {
    source,
    desk: {
      device: 'PJSIP/bob-desk',
      hint: '201@phoneim-hints',
      // A real call from the phone to another: what makes a device busy on Asterisk.
      inUse: async (on) => {
        if (on) call = sim.placeCall({ from: '201', to: '+15550100777', device: 'PJSIP/bob-desk', toApp: false });
        else {
          await call?.hangup();
          // A phone nobody used yet is idle, as a registered SIP phone is.
          if (!call) sim.setDeviceState('PJSIP/bob-desk', 'NOT_INUSE');
          call = undefined;
        }
      },
    },
  };
});
