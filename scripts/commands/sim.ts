/**
 * `phonectl sim start`: the softswitch simulator on its own, so any ARI
 * client (or the platform on another machine) can be pointed at it. Runs
 * until SIGINT or SIGTERM.
 * `phonectl sim call` and `phonectl sim keys`: a virtual caller for scripts,
 * through the control API of a running simulator (its URL with --control, or
 * sim.host and a fixed sim.controlPort; its token from sim.controlToken, e.g.
 * PHONEIM_SIM__CONTROL_TOKEN, or --token-stdin: never on the command line).
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
          devPhoneUrl: s.devPhoneUrl,
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

  const control = async (o: { control?: string; tokenStdin?: boolean }) => {
    const config = ctx.config();
    const base =
      o.control ?? (config.sim.controlPort === 0 ? undefined : `http://${config.sim.host}:${config.sim.controlPort}`);
    if (!base)
      throw new AppError('SIM_INVALID_INPUT', 'give --control <url> (printed by phonectl sim start and make run)');
    const token = o.tokenStdin ? await ctx.readSecret() : config.sim.controlToken;
    if (!token)
      throw new AppError(
        'SIM_INVALID_INPUT',
        'the control token is missing: set sim.controlToken (PHONEIM_SIM__CONTROL_TOKEN) or use --token-stdin',
      );
    return async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      let res: Response;
      try {
        res = await fetch(new URL(path, base), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw new AppError('SIM_CONTROL_UNREACHABLE', `${base}: ${(e as Error).message}`);
      }
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const error = json.error as { code?: string; message?: string } | undefined;
      if (!res.ok)
        throw new AppError('SIM_CONTROL_REFUSED', `${error?.message ?? res.statusText} (${error?.code ?? res.status})`);
      return json;
    };
  };

  sim
    .command('call')
    .description('a virtual caller dials <to> from <from>; prints the call id')
    .argument('<from>', "the caller's number (caller ID)")
    .argument('<to>', 'the number dialled, e.g. 100')
    .option('--control <url>', "the simulator's control URL")
    .option('--name <name>', 'caller ID name')
    .option('--token-stdin', 'read the control token from standard input')
    .action(async (from: string, to: string, o: { control?: string; name?: string; tokenStdin?: boolean }) => {
      const post = await control(o);
      const call = await post('/sim/calls', { from, to, ...(o.name ? { name: o.name } : {}) });
      if (ctx.options.json) ctx.record(call);
      else ctx.io.out(`${String(call.channelId)}\n`);
    });

  sim
    .command('keys')
    .description('the caller of <call> presses <digits> (0-9, *, #, A-D)')
    .argument('<call>', 'the call id printed by phonectl sim call')
    .argument('<digits>', 'the keys, e.g. 2468#')
    .option('--control <url>', "the simulator's control URL")
    .option('--gap <ms>', 'milliseconds between keys')
    .option('--token-stdin', 'read the control token from standard input')
    .action(async (call: string, digits: string, o: { control?: string; gap?: string; tokenStdin?: boolean }) => {
      const gapMs = o.gap === undefined ? undefined : Number(o.gap);
      if (gapMs !== undefined && !(Number.isInteger(gapMs) && gapMs >= 0))
        throw new AppError('SIM_INVALID_INPUT', '--gap must be a whole number of milliseconds');
      const post = await control(o);
      await post(`/sim/calls/${encodeURIComponent(call)}/keys`, { digits, ...(gapMs === undefined ? {} : { gapMs }) });
      ctx.done(`pressed ${digits.length} key${digits.length === 1 ? '' : 's'} on ${call}`, {
        call,
        keys: digits.length,
      });
    });
}
