/** Shared test scaffolding: a config on a temporary data directory, quiet logs, fast hashing. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Config, type ConfigInput, loadConfig } from '../../src/core/config.js';
import { createLogger, type Logger } from '../../src/core/logger.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A valid configuration for tests: port 0, silent, cheap scrypt (the cost is configurable; the algorithm is not). */
export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  const base: ConfigInput = {
    dataDir,
    log: { level: 'silent' },
    http: { port: 0 },
    accounts: { kdfCost: 1024 },
  };
  return loadConfig({ env: {}, overrides: deepMerge(base as Record<string, unknown>, overrides) });
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const x = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && x && typeof x === 'object'
        ? deepMerge(x as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point (the CLI, the server) as its own process, with
 * the same loader this test runs under, so coverage follows it.
 */
export function runEntry(
  entry: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

/**
 * How to start a TypeScript entry point (relative to the root) as its own
 * process: its build (`make build`, as `make test` does first) when that is
 * newer than every source file and the entry itself, since a process on the
 * TypeScript loader takes tens of seconds to start on a busy machine;
 * otherwise the source through the loader this test runs under.
 */
export function entryArgs(entry: string): string[] {
  const built = join(ROOT, 'dist/.built');
  const js = join(ROOT, 'dist', entry.replace(/\.ts$/, '.js'));
  if (
    existsSync(built) &&
    existsSync(js) &&
    statSync(built).mtimeMs >= Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, entry)))
  )
    return [js];
  return [...process.execArgv, join(ROOT, entry)];
}

/** Retries `fn` (every 50 ms) until it returns without throwing; its last error when the time is up. */
export async function eventually<T>(fn: () => T | Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
  const end = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A logger whose lines a test reads back, parsed (one object per pino line). */
export function capturedLog(): { lines: Record<string, unknown>[]; log: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}
