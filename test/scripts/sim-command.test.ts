import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { listenOn } from '../../src/core/net.js';
import { runPhonectl } from '../support/cli.js';
import { ROOT } from '../support/env.js';

t.test('phonectl sim start prints the ARI URL and credentials, serves ARI, stops on SIGTERM', async (t) => {
  const dir = t.testdir({});
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      join(ROOT, 'scripts/phonectl.ts'),
      '--data-dir',
      dir,
      'sim',
      'start',
      '--port',
      '0',
      '--speed',
      '5',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, PHONEIM_TELEPHONY__ARI__PASSWORD: 'cli-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /controlToken:\s+\S+/.test(out) && /ariUrl:\s+(http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  t.match(out, /ariUser:\s+phoneim/);
  t.match(out, /ariPassword:\s+cli-secret/);
  t.match(out, /amiPort:\s+\d+/);
  const auth = `Basic ${Buffer.from('phoneim:cli-secret').toString('base64')}`;
  const res = await fetch(`${url}/ari/api-docs/resources.json`, { headers: { authorization: auth } });
  t.equal(res.status, 200);
  t.match(await res.json(), { apis: [{ path: /api-docs/ }] });
  const controlUrl = /controlUrl:\s+(\S+)/.exec(out)?.[1] as string;
  const token = /controlToken:\s+(\S+)/.exec(out)?.[1] as string;
  t.equal((await fetch(`${controlUrl}/sim/status`)).status, 401, 'the control API wants the printed token');
  const status = await fetch(`${controlUrl}/sim/status`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(status.status, 200, 'and takes it');
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('phonectl sim start refuses a bad port or speed', async (t) => {
  const dir = t.testdir({});
  const r = await runPhonectl(['--data-dir', dir, 'sim', 'start', '--speed', '0']);
  t.equal(r.code, 1);
  t.match(r.stderr, /--speed must be between/);
  const p = await runPhonectl(['--data-dir', dir, 'sim', 'start', '--port', '70000']);
  t.not(p.code, 0);
  t.match(p.stderr, /--port must be 0-65535/);
});

t.test('phonectl sim start on a port in use says which key to change, in one line', async (t) => {
  const taken = createServer();
  const port = await listenOn(taken, 0, '127.0.0.1');
  t.teardown(() => new Promise<void>((r) => taken.close(() => r())));
  const r = await runPhonectl(['--data-dir', t.testdir({}), 'sim', 'start', '--port', '0', '--ami-port', String(port)]);
  t.equal(r.code, 1);
  t.equal(
    r.stderr,
    `error: sim.amiPort: 127.0.0.1:${port} is already in use; set sim.amiPort (PHONEIM_SIM__AMI_PORT) to a free port [CORE_PORT_UNAVAILABLE]\n`,
  );
});
