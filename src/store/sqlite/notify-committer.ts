/**
 * The notifier's hot commits on SQLite (claimDueSteps, recordStepEnds,
 * foldMessages, startAlerts). By default a writer thread owns a durable
 * connection and runs each of them, with its fsync, off the main thread;
 * inline, they run on the main connection (':memory:', tools, tests).
 *
 * Several calls may be under way at once: the thread runs them in order,
 * each in its own transaction, and answers each by its sequence number. A
 * thread that dies rejects every call under way (their transactions either
 * committed or not: a claim whose answer was lost leaves its steps
 * in-progress, closed as interrupted at the next start, never performed
 * twice); the next call starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { endWriterThread } from './message-committer.js';
import type { SqliteNotify, NotifyWrite } from './notify.js';

const WRITER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './notify-writer.ts' : './notify-writer.js',
  import.meta.url,
);

type Result<M extends NotifyWrite> = ReturnType<SqliteNotify[M]>;

export class SqliteNotifyWriter {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private closed = false;

  constructor(private readonly path: string) {}

  /** Starts the thread ahead of the first commit, so that commit does not wait for it to boot. */
  warm(): void {
    if (!this.closed) this.writer();
  }

  call<M extends NotifyWrite>(method: M, args: Parameters<SqliteNotify[M]>): Promise<Result<M>> {
    if (this.closed) return Promise.reject(new Error('the notifier store is closed'));
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      const w = this.writer();
      // The thread keeps the process alive only while a call is under way.
      w.ref();
      w.postMessage({ type: 'call', seq, method, args });
    });
  }

  private writer(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WRITER_URL, { workerData: { path: this.path } });
    w.unref();
    w.on('message', (m: { seq: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (this.pending.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(revive(m.value));
    });
    w.on('error', (e) => this.writerFailed(w, e));
    w.on('exit', () => this.writerFailed(w, new Error('the notifier writer thread exited')));
    this.worker = w;
    return w;
  }

  private writerFailed(w: Worker, e: unknown): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(e);
  }

  /** Waits for the calls under way (the notifier stops first), then ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    await endWriterThread(w);
  }
}

/** A settled item's reason comes back as an Error again. */
function revive(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((r: { status?: string; reason?: { message: string } }) =>
    r?.status === 'rejected' ? { status: 'rejected', reason: new Error(r.reason?.message) } : r,
  );
}
