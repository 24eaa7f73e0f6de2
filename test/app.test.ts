import { join } from 'node:path';
import t from 'tap';
import { Platform } from '../src/app.js';
import { silentLogger } from '../src/core/logger.js';
import { ROOT, testConfig } from './support/env.js';

t.test('the platform starts on its embedded defaults and answers its health endpoint', async (t) => {
  const dir = t.testdir({});
  const platform = new Platform({ config: testConfig(dir), log: silentLogger() });
  t.teardown(() => platform.stop());
  const url = await platform.start();
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${url}/health`);
  t.equal(res.status, 200);
  t.match(await res.json(), { status: 'ok', node: 'node-1', schema: Number });
  const missing = await fetch(`${url}/nope`);
  t.equal(missing.status, 404);
  t.match(await missing.json(), { error: { code: 'WEB_NOT_FOUND' } });
  const wrongMethod = await fetch(`${url}/health`, { method: 'POST' });
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.get('allow'), 'GET');
  await platform.stop();
  await platform.stop();
});

t.test('the server process starts from the environment and stops on SIGTERM', async (t) => {
  const dir = t.testdir({});
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, join(ROOT, 'src/main.ts')], {
    cwd: dir,
    env: { ...process.env, PHONEIM_DATA_DIR: join(dir, 'data'), PHONEIM_HTTP__PORT: '0', PHONEIM_LOG__LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}`)));
  });
  const res = await fetch(`${url}/health`);
  t.equal(res.status, 200);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});
