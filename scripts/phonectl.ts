#!/usr/bin/env node
/** phonectl: the admin command. `phonectl --help` lists the subcommands. */
import { processEnvironment } from '../src/core/config.js';
import { runCli } from './commands/cli.js';

// A reader that went away (`phonectl user list | head`) is not a failure of the command: stop quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') process.stderr.write(`phonectl: cannot write its output: ${e.message}\n`);
    process.exit(e.code === 'EPIPE' ? Number(process.exitCode) || 0 : 74); // EX_IOERR
  });

process.exitCode = await runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: processEnvironment(),
  stdin: process.stdin,
});
