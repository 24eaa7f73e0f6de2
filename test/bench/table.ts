/**
 * The table `make bench` ends with: every figure the benchmarks recorded in
 * the file named on the command line (report.ts), with its same-run
 * reference, the ratio and the goal.
 *
 * Usage: node dist/test/bench/table.js results.jsonl
 */
import { readFileSync } from 'node:fs';
import { type Figure, fmt, ratioOf } from './report.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: table.js results.jsonl');
  process.exit(2);
}
const figures = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Figure);

const rows = [
  ['bench', 'figure', 'value', 'reference', 'ratio', 'goal', ''],
  ...figures.map((f) => {
    const ratio = ratioOf(f);
    return [
      f.bench,
      f.what,
      `${fmt(f.value)} ${f.unit}`,
      f.reference ? `${fmt(f.reference.value)} (${f.reference.what})` : '',
      ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      f.goal?.text ?? '',
      f.goal ? (f.goal.met ? 'met' : 'NOT MET') : '',
    ];
  }),
];
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
const line = (r: string[]) =>
  r
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join(' | ')
    .trimEnd();
console.log(line(rows[0] as string[]));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows.slice(1)) console.log(line(r));
const goals = figures.filter((f) => f.goal);
console.log(`\n${goals.filter((f) => f.goal?.met).length} of ${goals.length} goals met.`);
