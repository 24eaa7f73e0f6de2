/**
 * `phonectl sim call` and `phonectl sim keys` drive a running simulator
 * through its control API, as a script would: the call reaches the ARI
 * application, the keys arrive as DTMF, and a refusal is an exit code with
 * the simulator's reason.
 */
import type { EventEmitter } from 'node:events';
import ari from 'ari-client';
import t from 'tap';
import { phonectl } from '../support/cli.js';
import { SIM_PASSWORD, SIM_USER, simulator, until } from '../telephony/support.js';

const TOKEN = 'a-control-token-for-scripts-0123456789';

t.test('sim call places a call the application gets; sim keys presses its keys', async (t) => {
  const sim = await simulator(t, { controlPort: 0, controlToken: TOKEN });
  const client = await ari.connect(sim.ariUrl, SIM_USER, SIM_PASSWORD);
  const events: { type: string; args?: string[]; channel?: { caller?: { number: string } } }[] = [];
  (client as unknown as EventEmitter).on('*', (e: (typeof events)[number]) => events.push(e));
  await client.start('phoneim');
  t.teardown(() => client.stop());
  const dir = t.testdir({});
  const run = phonectl(dir, { PHONEIM_SIM__CONTROL_TOKEN: TOKEN });
  const control = sim.controlUrl as string;

  const call = await run(['sim', 'call', '--control', control, '+15550100101', '100']);
  t.equal(call.code, 0, call.stderr);
  const id = call.stdout.trim();
  t.ok(sim.callers.has(id), `it printed the call id (${id})`);
  await until('StasisStart', () => events.some((e) => e.type === 'StasisStart'));
  t.match(
    events.find((e) => e.type === 'StasisStart'),
    { args: ['100'], channel: { caller: { number: '+15550100101' } } },
  );

  const keys = await run(['--json', 'sim', 'keys', '--control', control, '--gap', '10', id, '12#']);
  t.equal(keys.code, 0, keys.stderr);
  t.same(JSON.parse(keys.stdout), { call: id, keys: 3 });
  await until('3 keys', () => events.filter((e) => e.type === 'ChannelDtmfReceived').length === 3);
  t.equal(sim.callers.get(id)?.keysPressed, '12#', 'the caller pressed them in order');

  const gone = await run(['sim', 'keys', '--control', control, 'no-such-call', '1']);
  t.equal(gone.code, 1, 'a refusal exits 1');
  t.match(gone.stderr, /no live call with that id \(SIM_CALL_NOT_FOUND\)/);

  const wrongToken = await run(
    ['sim', 'call', '--control', control, '--token-stdin', '+15550100101', '100'],
    'not-the-token\n',
  );
  t.equal(wrongToken.code, 1);
  t.match(wrongToken.stderr, /SIM_UNAUTHORIZED/, 'the control API wants its token');

  const nowhere = await phonectl(dir)(['sim', 'call', '+15550100101', '100']);
  t.equal(nowhere.code, 1);
  t.match(nowhere.stderr, /give --control <url>/, 'without a fixed control port it asks for the URL');
});
