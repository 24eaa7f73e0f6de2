/**
 * What every benchmark prints: a figure beside the reference measured in the
 * same run (the limit or plain peer of the same work), their ratio, and the
 * goal with whether it was met. Each figure is printed as one line for the
 * reader and, when PHONEIM_BENCH_RESULTS names a file, appended to it as one
 * JSON line; `make bench` ends by printing all of them as one table
 * (table.ts).
 */
import { appendFileSync } from 'node:fs';

export interface Figure {
  /** The benchmark (file) it comes from: "calls", "ivr", "alerts", ... */
  bench: string;
  /** What was measured, in words: "DTMF to play request p99". */
  what: string;
  value: number;
  unit: string;
  /** The same work's limit or plain peer, measured in this run. */
  reference?: { what: string; value: number };
  /**
   * The goal, in words ("<= 20 ms", "<= 1.5x reference", ">= 50% of reference"),
   * and whether this run met it; undefined when the figure is for information.
   */
  goal?: { text: string; met: boolean };
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** The p-quantile (0..1) of values sorted ascending (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** Count, p50, p99, max and mean of the values (in any order). */
export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** A number as the table shows it: 3 significant digits, thousands separated. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return Math.round(v).toLocaleString('en-GB');
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** figure / reference, or undefined without a reference. */
export function ratioOf(f: Figure): number | undefined {
  if (!f.reference || f.reference.value === 0) return undefined;
  return f.value / f.reference.value;
}

/** Prints the figure on one line and records it for the closing table. */
export function report(f: Figure): void {
  const ratio = ratioOf(f);
  const parts = [`  ${f.what}: ${fmt(f.value)} ${f.unit}`];
  if (f.reference) parts.push(`reference (${f.reference.what}) ${fmt(f.reference.value)} ${f.unit}`);
  if (ratio !== undefined) parts.push(`ratio ${ratio.toFixed(2)}x`);
  if (f.goal) parts.push(`goal ${f.goal.text}: ${f.goal.met ? 'met' : 'NOT met'}`);
  console.log(parts.join('; '));
  const file = process.env.PHONEIM_BENCH_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(f)}\n`);
}
