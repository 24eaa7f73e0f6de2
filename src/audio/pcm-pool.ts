/**
 * Where a render's audio arithmetic runs: reading the engine's WAV,
 * resampling it to the telephony rate. On two cores shared with live calls,
 * doing it on the main thread shows as key-latency tails, so it runs in a
 * small pool of threads (pcm-worker.ts) fed the engine's output as it comes.
 *
 * - A job is one render: its bytes go to one thread, in order, and are
 *   handed over, not copied (the chunk's memory moves to the thread); its
 *   samples come back the same way. The result is sample for sample what the
 *   main thread would compute (the thread runs the same WavStream).
 * - The pool starts one thread when warmed, or at its first job, and grows
 *   to its size only when every thread has two jobs open.
 * - A render never waits for a thread to boot (from dist tens of
 *   milliseconds, under a TypeScript loader seconds): while none is online,
 *   its job runs on the calling thread, as it would without a pool.
 * - A thread that dies fails the jobs it held with a clear error; a thread
 *   that had come online is replaced at once, one that never did is started
 *   again only when a job needs it (a thread that cannot start does not spin).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/logger.js';
import type { PcmAnswer, PcmRequest } from './pcm-worker.js';
import { type Pcm, WavStream } from './wav.js';

/**
 * Jobs every thread holds before another starts: a thread interleaves a few
 * renders (each a few milliseconds of arithmetic spread over the engine's
 * run) well, and each thread costs memory and, under a TypeScript loader,
 * seconds of CPU to boot.
 */
const JOBS_BEFORE_GROWING = 2;

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './pcm-worker.ts' : './pcm-worker.js', import.meta.url);

/** One render's WAV bytes in, its PCM at the asked rate out. */
export interface PcmJob {
  /** The next bytes of the WAV. The chunk is handed over: the caller must not use it afterwards. */
  push(chunk: Buffer): void;
  /** The audio; null when the bytes were not a WAV. Rejects when the job failed (its thread stopped). */
  end(): Promise<Pcm | null>;
  /** Forgets the job (the engine failed): its bytes are not read. */
  drop(): void;
}

/** Opens jobs that read a WAV as it arrives and resample it to a rate. */
export interface PcmDecoder {
  open(rate: number): PcmJob;
}

/** The same work on the calling thread. */
export const inlineDecoder: PcmDecoder = {
  open(rate: number): PcmJob {
    const stream = new WavStream(rate);
    let error: unknown;
    return {
      push(chunk) {
        if (error !== undefined) return;
        try {
          stream.push(chunk);
        } catch (e) {
          error = e;
        }
      },
      end() {
        if (error !== undefined) return Promise.reject(error);
        try {
          return Promise.resolve(stream.end());
        } catch (e) {
          return Promise.reject(e);
        }
      },
      drop() {},
    };
  },
};

/** Reads a whole WAV (a file an engine wrote) and resamples it to a rate, through a decoder. */
export function decodeWhole(decoder: PcmDecoder, wav: Buffer, rate: number): Promise<Pcm | null> {
  const job = decoder.open(rate);
  job.push(wav);
  return job.end();
}

interface Pending {
  isEnded: boolean;
  failed?: Error;
  resolve?: (pcm: Pcm | null) => void;
  reject?: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  isOnline: boolean;
  /** Settles when the thread is up, or rejects when it died before. */
  online: Promise<void>;
  jobs: Map<number, Pending>;
}

export interface PcmPoolOptions {
  /** Threads at most (0: every job runs on the calling thread). */
  size: number;
  log: Logger;
  /** The thread's entry (default pcm-worker); tests start one that can be made to fail. */
  script?: URL;
}

export class PcmPool implements PcmDecoder {
  private readonly threads: Thread[] = [];
  private nextJob = 0;
  private isClosed = false;
  /** Threads that stopped while the pool was open. */
  deaths = 0;
  /** Jobs run on a thread, and on the calling thread (none was online). */
  readonly jobs = { onThreads: 0, inline: 0 };

  constructor(private readonly options: PcmPoolOptions) {}

  /** Starts a thread ahead of the first job. */
  warm(): void {
    if (!this.isClosed && this.options.size > 0 && this.threads.length === 0) this.start();
  }

  /** Threads that are up and take jobs. */
  get onlineThreads(): number {
    return this.threads.filter((t) => t.isOnline).length;
  }

  /** Resolves once `count` threads are online (tests, and a start-up that wants them). */
  async whenOnline(count = 1): Promise<void> {
    const want = Math.min(count, this.options.size);
    while (this.threads.length < want) this.start();
    await Promise.all(this.threads.slice(0, want).map((t) => t.online));
  }

  open(rate: number): PcmJob {
    const thread = this.pick();
    if (!thread) {
      this.jobs.inline++;
      return inlineDecoder.open(rate);
    }
    this.jobs.onThreads++;
    const job = ++this.nextJob;
    const pending: Pending = { isEnded: false };
    thread.jobs.set(job, pending);
    if (thread.jobs.size === 1) thread.worker.ref();
    this.post(thread, { type: 'open', job, rate });
    const finish = () => {
      if (thread.jobs.delete(job) && thread.jobs.size === 0) thread.worker.unref();
    };
    return {
      push: (chunk) => {
        if (pending.isEnded || pending.failed || chunk.length === 0) return;
        const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
        const bytes = owns ? (chunk.buffer as ArrayBuffer) : new Uint8Array(chunk).buffer;
        this.post(thread, { type: 'push', job, bytes, offset: 0, length: chunk.length }, [bytes]);
      },
      end: () => {
        if (pending.failed) {
          finish();
          return Promise.reject(pending.failed);
        }
        pending.isEnded = true;
        return new Promise<Pcm | null>((resolve, reject) => {
          pending.resolve = (pcm) => {
            finish();
            resolve(pcm);
          };
          pending.reject = (e) => {
            finish();
            reject(e);
          };
          this.post(thread, { type: 'end', job });
        });
      },
      drop: () => {
        if (pending.isEnded) return;
        pending.isEnded = true;
        finish();
        if (!pending.failed) this.post(thread, { type: 'drop', job });
      },
    };
  }

  /** The online thread with the fewest jobs; grows the pool when all are busy. Undefined: none is online. */
  private pick(): Thread | undefined {
    if (this.isClosed || this.options.size === 0) return undefined;
    let best: Thread | undefined;
    for (const t of this.threads) if (t.isOnline && (!best || t.jobs.size < best.jobs.size)) best = t;
    if (
      this.threads.length < this.options.size &&
      (!best || best.jobs.size >= JOBS_BEFORE_GROWING) &&
      this.threads.every((t) => t.isOnline)
    )
      this.start();
    return best;
  }

  private post(thread: Thread, m: PcmRequest, transfer: ArrayBuffer[] = []): void {
    thread.worker.postMessage(m, transfer);
  }

  private start(): void {
    const worker = new Worker(this.options.script ?? WORKER_URL);
    let up: () => void = () => {};
    let down: (e: Error) => void = () => {};
    const online = new Promise<void>((resolve, reject) => {
      up = resolve;
      down = reject;
    });
    // Nobody may be waiting for it: a thread that never comes up is reported by the jobs that needed it.
    online.catch(() => {});
    const thread: Thread = { worker, isOnline: false, online, jobs: new Map() };
    worker.unref();
    worker.once('online', () => {
      thread.isOnline = true;
      up();
    });
    worker.once('exit', (code) => down(new Error(`the audio thread exited before it was up (code ${code})`)));
    worker.on('message', (a: PcmAnswer) => {
      const p = thread.jobs.get(a.job);
      if (!p?.resolve || !p.reject) return;
      if ('error' in a) p.reject(new Error(`the audio could not be read: ${a.error}`));
      else if ('samples' in a) p.resolve({ sampleRate: a.sampleRate, samples: a.samples });
      else p.resolve(null);
    });
    worker.on('error', (e) => this.died(thread, e));
    worker.on('exit', (code) => this.died(thread, new Error(`exit code ${code}`)));
    this.threads.push(thread);
  }

  private died(thread: Thread, cause: Error): void {
    const i = this.threads.indexOf(thread);
    if (i < 0) return;
    this.threads.splice(i, 1);
    const jobs = fail(thread, new Error(`the audio thread stopped (${cause.message})`, { cause }));
    this.deaths++;
    this.options.log.error({ err: cause, jobs }, 'an audio thread stopped; its renders failed');
    if (thread.isOnline && !this.isClosed) this.start();
  }

  /** Ends the threads; a job still open fails (the service waits for its renders before it closes the pool). */
  async close(): Promise<void> {
    this.isClosed = true;
    const threads = this.threads.splice(0);
    for (const t of threads) fail(t, new Error('the audio service is closed'));
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

/** Fails every job a thread holds; returns how many. */
function fail(thread: Thread, error: Error): number {
  const jobs = [...thread.jobs.values()];
  thread.jobs.clear();
  for (const p of jobs) {
    p.failed = error;
    p.reject?.(error);
  }
  return jobs.length;
}
