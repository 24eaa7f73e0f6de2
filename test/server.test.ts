/**
 * The server as `make run` starts it (src/server.ts, which src/main.ts runs on
 * the process): what a person sees on the terminal at start-up, run in this
 * process with the environment a shell would give it.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import t from 'tap';
import { listenOn } from '../src/core/net.js';
import { startServer } from '../src/server.js';
import { eventually } from './support/env.js';

function terminal(env: NodeJS.ProcessEnv) {
  const io = {
    out: '',
    err: '',
    logs: [] as { msg?: string; says?: string }[],
  };
  return {
    io,
    start: () =>
      startServer({
        env: { PHONEIM_ACCOUNTS__KDF_COST: '1024', PHONEIM_HTTP__PORT: '0', ...env },
        out: (s) => {
          io.out += s;
        },
        err: (s) => {
          io.err += s;
        },
        logDestination: new Writable({
          write(c, _e, cb) {
            io.logs.push(JSON.parse(c.toString()));
            cb();
          },
        }),
      }),
  };
}

t.test('bad configuration stops start-up with a message naming the key (exit 78)', async (t) => {
  const term = terminal({ PHONEIM_HTTP__PORT: '99999', PHONEIM_DATA_DIR: t.testdir({}) });
  const r = await term.start();
  t.same(r, { ok: false, exitCode: 78 });
  t.match(term.io.err, /^config: http\.port is invalid/);
});

t.test('a port in use stops start-up with one line naming http.port and its variable (exit 1)', async (t) => {
  const taken = createServer();
  const port = await listenOn(taken, 0, '127.0.0.1');
  t.teardown(() => new Promise<void>((r) => taken.close(() => r())));
  const term = terminal({
    PHONEIM_HTTP__PORT: String(port),
    PHONEIM_DATA_DIR: t.testdir({}),
    PHONEIM_LOG__LEVEL: 'silent',
  });
  const r = await term.start();
  t.same(r, { ok: false, exitCode: 1 });
  t.equal(
    term.io.err,
    `start-up failed: http.port: 127.0.0.1:${port} is already in use; set http.port (PHONEIM_HTTP__PORT) to a free port\n`,
  );
});

t.test('the demo prints a plain try-it block whose curl lines place a call as Bob', async (t) => {
  const dir = t.testdir({});
  const term = terminal({
    PHONEIM_DEMO: 'true',
    PHONEIM_DATA_DIR: join(dir, 'data'),
    PHONEIM_DEV_MAILBOX__PORT: '0',
    PHONEIM_LOG__LEVEL: 'info',
  });
  const r = await term.start();
  if (!r.ok) throw new Error(term.io.err);
  t.teardown(r.stop);
  const out = term.io.out;
  t.match(out, new RegExp(`Web client\\s+${r.url}/login`));
  t.match(out, /Mailbox\s+http:\/\/127\.0\.0\.1:\d+\//);
  t.match(out, /bob\s+demo-password\s+\+15550100101\s+100001\s+2468/);
  t.notMatch(out, /\\"/, 'nothing JSON-escaped');

  // Paste the block's lines into a shell, as a person would: the variables, then the first curl.
  const lines = out.split('\n').map((l) => l.trim());
  const vars = lines.filter((l) => /^(CONTROL|TOKEN)=\S+$/.test(l));
  const placeCall = lines.find((l) => l.startsWith('curl') && /\/sim\/calls /.test(l)) as string;
  t.ok(vars.length >= 1 && placeCall, 'the block has the control URL and the call line');
  const sh = await promisify(execFile)('sh', ['-c', [...vars, placeCall].join('\n')]);
  const call = JSON.parse(sh.stdout) as { channelId: string; number: string };
  t.equal(call.number, '+15550100101', 'a call from Bob is ringing the IVR');
  const hears = await eventually(
    () => {
      const said = term.io.logs.filter((l) => l.msg === 'caller hears').map((l) => l.says);
      if (said.length === 0) throw new Error('nothing heard yet');
      return said;
    },
    { timeoutMs: 15_000 },
  );
  t.match(hears[0], /Welcome back, Bob/);
});
