/**
 * `phonectl sim start`: the softswitch simulator on its own, so any ARI
 * client (or the platform on another machine) can be pointed at it. Runs
 * until SIGINT or SIGTERM.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { CliContext } from './cli-kit.js';

const port = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new AppError('SIM_INVALID_INPUT', `${name} must be 0-65535`);
  return n;
};

export function registerSim(program: Command, ctx: CliContext): void {
  const sim = program.command('sim').description('the softswitch simulator (an ARI/AMI stand-in for Asterisk)');

  sim
    .command('start')
    .description('start the simulator and print its ARI URL and credentials; stop with Ctrl-C')
    .option('-p, --port <n>', 'ARI HTTP/WebSocket port (0 = any free port)', port('--port'))
    .option('--ami-port <n>', 'AMI port (0 = any free port)', port('--ami-port'))
    .option('--control-port <n>', 'control API port (/sim/...)', port('--control-port'))
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--speed <factor>', 'run playback and recording this many times faster than real time')
    .option('--sounds <dir>', 'directory of sound:<name> prompts')
    .action(
      async (o: {
        port?: number;
        amiPort?: number;
        controlPort?: number;
        host?: string;
        speed?: string;
        sounds?: string;
      }) => {
        const config = ctx.config();
        const speed = o.speed === undefined ? config.sim.speedFactor : Number(o.speed);
        if (!(speed >= 0.01 && speed <= 10_000))
          throw new AppError('SIM_INVALID_INPUT', '--speed must be between 0.01 and 10000');
        const { startSimulator } = await import('../../src/sim/index.js');
        const t = config.telephony;
        const s = await startSimulator({
          host: o.host ?? config.sim.host,
          ariPort: o.port ?? config.sim.ariPort,
          amiPort: o.amiPort ?? config.sim.amiPort,
          controlPort: o.controlPort ?? config.sim.controlPort,
          controlToken: config.sim.controlToken,
          user: t.ari.user,
          password: t.ari.password,
          amiUser: t.ami.user,
          amiSecret: t.ami.secret,
          app: t.ari.app,
          speedFactor: speed,
          soundsDir: resolve(o.sounds ?? config.sim.soundsDir),
          log: createLogger({ level: 'warn' }),
        });
        ctx.record({
          ariUrl: s.ariUrl,
          ariUser: s.user,
          ariPassword: s.password,
          app: s.app,
          amiHost: s.host,
          amiPort: s.amiPort,
          amiUser: s.amiUser,
          amiSecret: s.amiSecret,
          controlUrl: s.controlUrl,
          controlToken: s.controlToken,
          speedFactor: speed,
        });
        await new Promise<void>((done) => {
          process.once('SIGINT', () => done());
          process.once('SIGTERM', () => done());
        });
        await s.close();
        ctx.io.err('simulator stopped\n');
      },
    );
}
