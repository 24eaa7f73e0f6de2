/** Shared test scaffolding for telephony and the simulator: a simulator, an adapter on it, a prompt server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/sim/index.js';
import { tone, writeWav } from '../../src/sim/wav.js';
import { AriCallControl } from '../../src/telephony/ari-call-control.js';
import type { Call, CallControl } from '../../src/telephony/port.js';

export const SIM_USER = 'phoneim';
export const SIM_PASSWORD = 'sim-secret';

/** A WAV of `ms` milliseconds of tone at `rate` (8 kHz = what Asterisk's `.wav` wants). */
export function wav(ms: number, rate = 8000): Buffer {
  return writeWav(tone(ms, rate), rate);
}

export async function simulator(t: Test, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({
    user: SIM_USER,
    password: SIM_PASSWORD,
    // t.testdir() empties the test's one fixture folder: only when the caller brings none.
    soundsDir: opts.soundsDir ?? t.testdir({}),
    log: silentLogger(),
    speedFactor: 20,
    controlPort: null,
    ...opts,
  });
  t.teardown(() => sim.close());
  return sim;
}

export function adapter(t: Test, url: string, opts: Partial<ConstructorParameters<typeof AriCallControl>[0]> = {}) {
  const control = new AriCallControl({
    url,
    user: SIM_USER,
    password: SIM_PASSWORD,
    app: 'phoneim',
    log: silentLogger(),
    clock: new SystemClock(),
    reconnectInitialMs: 20,
    reconnectMaxMs: 200,
    requestTimeoutMs: 2000,
    ...opts,
  });
  t.teardown(() => control.close());
  control.start();
  return control;
}

/** An HTTP server for prompts: path -> [body, headers]. Counts hits per path. */
export async function promptServer(
  t: Test,
  files: Record<string, [Buffer, Record<string, string>?]>,
): Promise<{ url: (path: string) => string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const f = files[path];
    if (!f) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav', ...f[1] });
    res.end(f[0]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  return { url: (p) => `http://127.0.0.1:${port}${p}`, hits, server };
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The next call that enters the application. */
export const nextCall = (control: Pick<CallControl, 'onCall'>) =>
  new Promise<Call>((resolve) => {
    const off = control.onCall((c) => {
      off();
      resolve(c);
    });
  });
