/**
 * phonectl's command tree: one entry point with subcommands (like
 * prosodyctl). Every subcommand calls the same services as the server.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../../src/app.js';
import { registerAlert } from './alert.js';
import { CliContext, type CliIo, reportError } from './cli-kit.js';
import { registerDb } from './db.js';
import { registerDevice } from './device.js';
import { registerGateway } from './gateway.js';
import { registerPeer } from './peer.js';
import { registerPrompts } from './prompts.js';
import { registerPresence } from './presence.js';
import { registerSim } from './sim.js';
import { registerUser } from './user.js';

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = new Command('phonectl')
    .version(VERSION)
    .description('administer the phone IM platform')
    .option('-c, --config <file>', 'configuration file (JSON); default: $PHONEIM_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory (overrides the configuration)')
    .option('--json', 'print JSON instead of tables')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const ctx = new CliContext(program, io);
  // Commands over the services find them on the configured store (db and sim open their own, or none).
  program.hook('preAction', async (_program, action) => {
    let top = action;
    while (top.parent && top.parent !== program) top = top.parent;
    if (top.name() !== 'db' && top.name() !== 'sim') await ctx.prepare();
  });
  registerUser(program, ctx);
  registerDevice(program, ctx);
  registerDb(program, ctx);
  registerAlert(program, ctx);
  registerPrompts(program, ctx);
  registerPresence(program, ctx);
  registerSim(program, ctx);
  registerGateway(program, ctx);
  registerPeer(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return reportError(e, io);
  } finally {
    await ctx.close();
  }
}
