/** phonectl as a process: what only the real entry point does (its output going nowhere). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { ROOT } from '../support/env.js';

t.test('phonectl ... | head: a reader that goes away ends the command quietly', async (t) => {
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(ROOT, 'scripts/phonectl.ts'), '--data-dir', t.testdir({}), 'prompts', 'list'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The reader closes before the command has written a line (as `head` does after its lines).
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(stderr, '', 'no stack trace, nothing at all on stderr');
  t.equal(code, 0);
});
