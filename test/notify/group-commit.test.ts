/** The group commit as its callers see it: one write per window, each caller its own answer. */
import t from 'tap';
import { GroupCommit } from '../../src/notify/group-commit.js';

t.test('writes asked for together go as one batch; each caller gets its own result or error', async (t) => {
  const batches: number[][] = [];
  const g = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    return items.map(
      (n): PromiseSettledResult<number> =>
        n < 0 ? { status: 'rejected', reason: new Error(`bad ${n}`) } : { status: 'fulfilled', value: n * 10 },
    );
  }, 5);
  const all = await Promise.allSettled([g.add(1), g.add(2), g.add(-3), g.add(4)]);
  t.same(batches, [[1, 2, -3, 4]], 'one batch');
  t.same(
    all.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [10, 20, 'bad -3', 40],
  );
  t.equal(await g.add(5), 50, 'a later write: a batch of its own');
  t.same(batches[1], [5]);
});

t.test('a full batch goes at once; the rest follows in the next', async (t) => {
  const batches: number[][] = [];
  const g = new GroupCommit<number, number>(
    async (items) => {
      batches.push(items);
      return items.map((n) => ({ status: 'fulfilled' as const, value: n }));
    },
    60_000,
    3,
  );
  // Two full batches: each goes as soon as it is full, neither waits out the minute-long window.
  const all = Promise.all([1, 2, 3, 4, 5, 6].map((n) => g.add(n)));
  const waited = new Promise<'waited'>((r) => setTimeout(() => r('waited'), 10_000).unref());
  t.same(await Promise.race([all, waited]), [1, 2, 3, 4, 5, 6], 'without waiting out a minute-long window');
  t.same(batches, [
    [1, 2, 3],
    [4, 5, 6],
  ]);
});

t.test(
  'a store that fails the whole write fails each caller, and one that forgets an item fails that one',
  async (t) => {
    const down = new GroupCommit<number, number>(async () => {
      throw new Error('disk gone');
    });
    const r = await Promise.allSettled([down.add(1), down.add(2)]);
    t.same(
      r.map((x) => x.status === 'rejected' && (x.reason as Error).message),
      ['disk gone', 'disk gone'],
    );
    const forgetful = new GroupCommit<number, number>(async () => [{ status: 'fulfilled', value: 7 }]);
    const [a, b] = await Promise.allSettled([forgetful.add(1), forgetful.add(2)]);
    t.same(a, { status: 'fulfilled', value: 7 });
    t.match(b, { status: 'rejected', reason: { message: /no result/ } });
  },
);

t.test('one batch is written at a time: what is asked for meanwhile goes in the next, as one', async (t) => {
  const batches: number[][] = [];
  let release: () => void = () => {};
  const g = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await new Promise<void>((r) => (release = r));
    return items.map((n) => ({ status: 'fulfilled' as const, value: n }));
  });
  const first = g.add(1);
  await new Promise((r) => setImmediate(r)); // the first batch is under way
  const later = [g.add(2), g.add(3)];
  await new Promise((r) => setTimeout(r, 20));
  t.same(batches, [[1]], 'nothing else is written while the first batch is under way');
  release();
  t.same(await Promise.all([first, ...later]), [1, 2, 3]);
  t.same(batches, [[1], [2, 3]], 'those that waited go together, at once');
});
