import t from 'tap';
import { RecentSet } from '../../src/core/recent-set.js';

t.test('a recent set keeps the last values added, oldest forgotten first', async (t) => {
  const s = new RecentSet<number>(3);
  for (const v of [1, 2, 3]) s.add(v);
  t.ok(s.has(1) && s.has(2) && s.has(3));
  s.add(2);
  t.equal(s.size, 3, 'adding a value it holds adds nothing');
  s.add(4);
  t.notOk(s.has(1), 'the oldest went');
  t.ok(s.has(2), 'adding 2 again did not make it newer, but 1 was older');
  s.add(5);
  t.notOk(s.has(2));
  t.same(
    [3, 4, 5].map((v) => s.has(v)),
    [true, true, true],
  );
  t.equal(s.size, 3);
  t.throws(() => new RecentSet(0), RangeError);
  t.throws(() => new RecentSet(1.5), RangeError);
});
