import t, { type Test } from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { CallContext } from '../../src/ivr/context.js';
import { ALL_MENUS, MAIN_MENU, validateMenus } from '../../src/ivr/menus.js';
import { Gather, Hangup, Play, playbackGroups, Record, run, Say, validateMenu } from '../../src/ivr/verbs.js';
import { testConfig } from '../support/env.js';
import { FakeAudio, FakeControl } from './support/doubles.js';

function context(t: Test) {
  const audio = new FakeAudio();
  const control = new FakeControl(audio);
  const call = control.dial('+15550100101');
  const clock = new SystemClock();
  const config = testConfig(t.testdir({}), { ivr: { firstDigitTimeoutMs: 100, interDigitTimeoutMs: 100 } });
  const ctx = new CallContext(call, { control, audio, clock, config: config.ivr, log: silentLogger() });
  t.teardown(() => ctx.dispose());
  return { ctx, call, clock, control };
}

t.test('menus are checked at start-up', async (t) => {
  t.doesNotThrow(() => validateMenus());
  const bad = (over: object) => ({ ...MAIN_MENU, ...over });
  t.throws(() => validateMenu(bad({ options: [] })), { code: 'IVR_MENU_INVALID', message: /no options/ });
  t.throws(() => validateMenu(bad({ prompt: [] })), { code: 'IVR_MENU_INVALID', message: /no prompt/ });
  t.throws(() => validateMenu(bad({ id: 'Main Menu' })), { code: 'IVR_MENU_INVALID', message: /id/ });
  t.throws(() => validateMenu(bad({ prompt: ['nope'] })), { code: 'IVR_MENU_INVALID', message: /"nope"/ });
  t.throws(
    () =>
      validateMenu(
        bad({
          options: [
            { key: '1', action: 'a' },
            { key: '1', action: 'b' },
          ],
        }),
      ),
    { code: 'IVR_MENU_INVALID', message: /used twice/ },
  );
  t.throws(() => validateMenu(bad({ options: [{ key: '12', action: 'a' }] })), { message: /not a keypad key/ });
  t.throws(() => validateMenu(bad({ options: [{ key: '1', action: '' }] })), { message: /no action/ });
  t.throws(() => validateMenu(bad({ ignore: ['x'] })), { message: /ignored key/ });
  t.throws(() => validateMenu(bad({ ignore: ['1'] })), { message: /both an option and ignored/ });
  t.throws(() => validateMenus([...ALL_MENUS, MAIN_MENU]), { code: 'IVR_MENU_INVALID', message: /two menus/ });
});

t.test('verbs check their preconditions', async (t) => {
  const { ctx, call } = context(t);
  await t.rejects(run(ctx, new Play([])), { code: 'IVR_VERB_PRECONDITION' });
  await t.rejects(run(ctx, new Say([])), { code: 'IVR_VERB_PRECONDITION' });
  await t.rejects(run(ctx, new Gather({ prompt: [], maxDigits: 0 })), { code: 'IVR_VERB_PRECONDITION' });
  await t.rejects(run(ctx, new Record({ name: '../etc' })), { code: 'IVR_VERB_PRECONDITION' });
  t.throws(() => ctx.userOrThrow, { code: 'IVR_VERB_PRECONDITION' });
  call.remoteHangup();
  await t.rejects(run(ctx, new Say(['goodbye'])), { code: 'IVR_CALL_ENDED' });
  await t.rejects(ctx.sleep(10), { code: 'IVR_CALL_ENDED' });
  await t.resolves(run(ctx, new Hangup()).catch(() => undefined));
});

t.test('gather: terminator, max digits, inter-digit timeout; keys pressed early are kept', async (t) => {
  const { ctx, call } = context(t);
  call.press('12#9');
  t.same(await run(ctx, new Gather({ prompt: ['enterPin'], maxDigits: 8, terminator: '#' })), {
    digits: '12',
    reason: 'terminator',
  });
  t.same(call.heard, [], 'the prompt was skipped: the caller had already keyed');
  t.same(await run(ctx, new Gather({ prompt: [], maxDigits: 1 })), { digits: '9', reason: 'max' });
  const partial = run(ctx, new Gather({ prompt: [], maxDigits: 4 }));
  call.press('7');
  t.same(await partial, { digits: '7', reason: 'timeout' });
  t.same(await run(ctx, new Gather({ prompt: [], maxDigits: 4 })), { digits: '', reason: 'timeout' });
  const first = ctx.digits.next(1000, ctx.signal, 'x');
  t.throws(() => ctx.digits.next(1000, ctx.signal, 'x'), { code: 'IVR_VERB_PRECONDITION' }, 'one reader at a time');
  call.press('1');
  t.equal(await first, '1');
});

t.test('say stops at once when its verb is stopped', async (t) => {
  const { ctx, call } = context(t);
  call.playMs = 60_000;
  const say = new Say(['mainMenu', 'goodbye']);
  const p = run(ctx, say);
  await call.hears(/^Main menu/);
  say.stop();
  t.equal(await p, 'interrupted');
  t.equal(call.heard.length, 1);
});

t.test('sleep waits on the clock', async (t) => {
  const { ctx, clock } = context(t);
  const started = Date.now();
  await ctx.sleep(20);
  t.ok(Date.now() - started >= 15);
  t.equal(clock.pending, 0);
});

t.test('a list of prompts is one playback request, split only where a request line would grow too long', async (t) => {
  t.same(playbackGroups(['sound:a', 'sound:b', 'sound:c']), [['sound:a', 'sound:b', 'sound:c']]);
  const long = `sound:http://audio.test/${'x'.repeat(900)}.wav`;
  t.same(
    playbackGroups([long, long, long, 'sound:d']).map((g) => g.length),
    [2, 2],
    'at most 2,000 characters a request',
  );
  const many = Array.from({ length: 20 }, (_, i) => `sound:p${i}`);
  t.same(
    playbackGroups(many).map((g) => g.length),
    [16, 4],
    'at most 16 URIs a request',
  );
  const { ctx, call } = context(t);
  const said = run(ctx, new Play(['sound:a', 'sound:b', 'sound:c']));
  t.equal(await said, 'finished');
  t.equal(call.playRequests, 1);
  t.same(call.heard, ['sound:a', 'sound:b', 'sound:c']);
});
