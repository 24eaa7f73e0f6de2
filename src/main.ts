/**
 * The server process: src/server.ts on this process's environment and
 * output, stopped cleanly on SIGINT/SIGTERM.
 */
import { processEnvironment } from './core/config.js';
import { startServer } from './server.js';

const started = await startServer({
  env: processEnvironment(),
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
if (!started.ok) process.exit(started.exitCode);
else {
  const stop = () => void started.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
