#!/usr/bin/env node
/** phonectl: the admin command. `phonectl --help` lists the subcommands. */
import { processEnvironment } from '../src/core/config.js';
import { runCli } from './commands/cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: processEnvironment(),
  stdin: process.stdin,
});
