/**
 * phonectl's command tree run in this process: the same code the entry point
 * runs (scripts/phonectl.ts only wires it to the process), with its output,
 * errors and exit code captured. Starting the CLI through the TypeScript
 * loader costs seconds per run; tests that need the real process (exit on a
 * closed pipe, signals) spawn it once.
 */
import { Readable } from 'node:stream';
import { runCli } from '../../scripts/commands/cli.js';
import type { RunResult } from './env.js';

/** Fast hashing for the users the CLI creates. */
const CLI_TEST_ENV = { PHONEIM_ACCOUNTS__KDF_COST: '1024' };

export async function runPhonectl(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
    },
    env: { ...CLI_TEST_ENV, ...opts.env },
    stdin: Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]),
  });
  return { code, stdout, stderr };
}

/** phonectl bound to one data directory. */
export function phonectl(dataDir: string, env?: NodeJS.ProcessEnv) {
  return (args: string[], input?: string) =>
    runPhonectl(['--data-dir', dataDir, ...args], {
      ...(env ? { env } : {}),
      ...(input !== undefined ? { input } : {}),
    });
}
