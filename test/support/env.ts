/** Shared test scaffolding: a config on a temporary data directory, quiet logs, fast hashing. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Config, type ConfigInput, loadConfig } from '../../src/core/config.js';

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
