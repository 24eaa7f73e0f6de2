/**
 * The bench's side of sim-process.ts: forks the built simulator process on
 * loopback, and runs scripted callers in it. Every wait is bounded; the
 * child is killed if it does not answer in time.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRequest, RunResult } from './sim-process.js';

export type { RunRequest, RunResult, Step } from './sim-process.js';

export interface SimChild {
  readonly ariUrl: string;
  readonly amiPort: number;
  readonly user: string;
  readonly password: string;
  readonly pid: number;
  run(r: Omit<RunRequest, 'type'>): Promise<RunResult>;
  /** Places `calls` calls that stay up, silent, until release(); resolves once each has heard a playback. */
  idle(o: {
    app: string;
    calls: number;
    numbers: string[];
    maxMs: number;
  }): Promise<{ calls: number; answered: number }>;
  release(): Promise<void>;
  close(): Promise<void>;
}

export async function startSimChild(opts: { speedFactor: number; timeoutMs?: number }): Promise<SimChild> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'sim-process.js');
  const child: ChildProcess = fork(entry, [String(opts.speedFactor)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', on);
        reject(new Error(`the simulator process sent no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: { type: string; message?: string }) => {
        if (m.type !== type && m.type !== 'error') return;
        clearTimeout(timer);
        child.off('message', on);
        if (m.type === 'error') reject(new Error(`simulator process: ${m.message}`));
        else resolve(m as T);
      };
      child.on('message', on);
    });
  let ready: { ariUrl: string; amiPort: number; user: string; password: string };
  try {
    ready = await next('ready', opts.timeoutMs ?? 20_000);
  } catch (e) {
    child.kill();
    throw e;
  }
  return {
    ...ready,
    pid: child.pid ?? 0,
    run: (r) => {
      const done = next<RunResult>('result', r.maxMs + 30_000);
      child.send({ type: 'run', ...r });
      return done;
    },
    idle: (o) => {
      const done = next<{ calls: number; answered: number }>('idling', o.maxMs + 30_000);
      child.send({ type: 'idle', ...o });
      return done;
    },
    release: async () => {
      const done = next('released', 30_000);
      child.send({ type: 'release' });
      await done;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
