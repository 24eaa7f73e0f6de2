/**
 * Composition root of the running server: configuration from the process,
 * one logger, the platform, and a clean stop on SIGINT/SIGTERM. In demo mode
 * (`make run`) it also starts the captured mailbox and prints the "try it"
 * block.
 */
import { Platform } from './app.js';
import { type Config, loadProcessConfig } from './core/config.js';
import { isAppError } from './core/errors.js';
import { createLogger } from './core/logger.js';
import { startDemoMailbox } from './dev/mailbox.js';
import { tryItBlock } from './dev/try-it.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadProcessConfig();
  } catch (e) {
    process.stderr.write(`${isAppError(e) ? e.message : String(e)}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ level: config.log.level });
  const demo = await startDemoMailbox(config, log);
  const platform = new Platform({ config: demo.config, log });
  const url = await platform.start().catch(async (e: unknown) => {
    await demo.mailbox?.close();
    throw e;
  });
  process.stdout.write(`platform listening on ${url} (health: ${url}/health)\n`);
  if (config.demo) process.stdout.write(tryItBlock({ url, sim: platform.sim, mailboxUrl: demo.mailbox?.url }));
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    void platform
      .stop()
      .then(() => demo.mailbox?.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`start-up failed: ${isAppError(e) ? e.message : (e as Error).stack}\n`);
  process.exit(1);
});
