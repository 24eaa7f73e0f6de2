import t from 'tap';
import { contractSuite } from './contract.js';
import { adapter, promptServer, simulator, wav } from './support.js';

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
