import t from 'tap';
import { ManualClock, SystemClock } from '../../src/core/clock.js';

t.test('the manual clock fires timers in order, only when stepped', async (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 200);
  clock.setTimeout(() => fired.push('a'), 100);
  const c = clock.setTimeout(() => fired.push('never'), 150);
  clock.clearTimeout(c);
  clock.advance(99);
  t.same(fired, []);
  clock.advance(1);
  t.same(fired, ['a']);
  clock.advance(1000);
  t.same(fired, ['a', 'b']);
  t.equal(clock.now(), 1100);
  t.equal(clock.pending, 0);
});

t.test('timers set by a firing timer run within the same step', async (t) => {
  const clock = new ManualClock(0);
  let at = -1;
  clock.setTimeout(() => clock.setTimeout(() => (at = clock.now()), 50), 50);
  clock.advance(100);
  t.equal(at, 100);
});

t.test('the system clock tracks pending timers', async (t) => {
  const clock = new SystemClock();
  const h = clock.setTimeout(() => t.fail('cleared timer fired'), 10);
  t.equal(clock.pending, 1);
  clock.clearTimeout(h);
  t.equal(clock.pending, 0);
  await new Promise<void>((resolve) => clock.setTimeout(resolve, 5));
  t.equal(clock.pending, 0);
  t.ok(Math.abs(clock.now() - Date.now()) < 1000);
});
