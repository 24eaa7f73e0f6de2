/**
 * The server as the process runs it: configuration from an environment, one
 * logger, the platform, and in demo mode (`make run`) the captured mailbox
 * and the "try it" block. src/main.ts wires it to the real process (its
 * environment, output, signals and exit code); tests run it in-process.
 */
import { Platform } from './app.js';
import { type Config, loadConfig } from './core/config.js';
import { isAppError } from './core/errors.js';
import { createLogger } from './core/logger.js';
import { startDemoMailbox } from './dev/mailbox.js';
import { tryItBlock } from './dev/try-it.js';
import { openStore } from './store/index.js';

export interface ServerIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where log lines go; default stdout. */
  logDestination?: NodeJS.WritableStream;
}

export type ServerStart =
  | { ok: true; url: string; platform: Platform; stop: () => Promise<void> }
  /** 78 (EX_CONFIG): bad configuration; 1: start-up failed (a port in use, ...). The reason went to err. */
  | { ok: false; exitCode: number };

export async function startServer(io: ServerIo): Promise<ServerStart> {
  let config: Config;
  try {
    config = loadConfig({ env: io.env });
  } catch (e) {
    io.err(`${isAppError(e) ? e.message : String(e)}\n`);
    return { ok: false, exitCode: 78 };
  }
  const log = createLogger({
    level: config.log.level,
    ...(io.logDestination ? { destination: io.logDestination } : {}),
  });
  let demo: Awaited<ReturnType<typeof startDemoMailbox>> | undefined;
  let platform: Platform | undefined;
  try {
    demo = await startDemoMailbox(config, log);
    const store = await openStore(demo.config, {
      onError: (e) => log.error({ err: e, part: 'store' }, 'the store failed in the background'),
    });
    platform = new Platform({ config: demo.config, log, store });
    const url = await platform.start();
    io.out(`platform listening on ${url} (health: ${url}/health)\n`);
    if (config.demo) io.out(tryItBlock({ url, sim: platform.sim, mailboxUrl: demo.mailbox?.url }));
    const started = platform;
    const mailbox = demo.mailbox;
    return {
      ok: true,
      url,
      platform,
      stop: async () => {
        await started.stop();
        await mailbox?.close();
      },
    };
  } catch (e) {
    await platform?.stop().catch(() => undefined);
    await demo?.mailbox?.close();
    io.err(`start-up failed: ${isAppError(e) ? e.message : (e as Error).stack}\n`);
    return { ok: false, exitCode: 1 };
  }
}
