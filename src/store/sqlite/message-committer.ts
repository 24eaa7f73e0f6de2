/**
 * The message cache's group commit on SQLite (MessageCommitter). By default
 * a writer thread owns the durable connection (synchronous=FULL) and runs
 * each commit and its fsync off the main thread, which meanwhile gathers the
 * next batch; inline, the commit runs on the calling thread (tools, tests).
 * One batch is in flight at a time. A writer thread that dies fails its
 * batch (every entry rejected) and the next batch starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { CommitBatch, CommitResult, MessageCommitter } from '../../presence/ports.js';
import { BatchCommitter } from './batch-committer.js';
import { decodeResults, encodeBatch, type WireResults } from './commit-wire.js';
import { openDb } from './db.js';

const WRITER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './message-writer.ts' : './message-writer.js',
  import.meta.url,
);

export interface SqliteMessageCommitterOptions {
  /** The database file (the committer opens its own connection to it). */
  path: string;
  nodeId: string;
  /** Commit on the calling thread instead of a writer thread. */
  inline?: boolean;
}

const failed = (batch: CommitBatch, e: unknown): CommitResult[] =>
  batch.entries.map(() => ({ ok: false, reason: e instanceof Error ? e.message : String(e) }));

export class SqliteMessageCommitter implements MessageCommitter {
  private committer: BatchCommitter | undefined;
  private worker: Worker | undefined;
  private seq = 0;
  private inFlight: { seq: number; batch: CommitBatch; resolve: (r: CommitResult[]) => void } | undefined;
  private closed = false;

  constructor(private readonly options: SqliteMessageCommitterOptions) {}

  warm(): void {
    if (this.closed) return;
    if (this.options.inline) {
      try {
        this.inlineCommitter();
      } catch {
        // The first commit reports it.
      }
    } else this.writer();
  }

  private inlineCommitter(): BatchCommitter {
    this.committer ??= new BatchCommitter(openDb({ path: this.options.path }), this.options.nodeId);
    return this.committer;
  }

  commit(batch: CommitBatch): Promise<CommitResult[]> {
    if (this.closed) return Promise.resolve(failed(batch, new Error('the message store is closed')));
    if (this.options.inline) {
      try {
        return Promise.resolve(this.inlineCommitter().commit(batch));
      } catch (e) {
        return Promise.resolve(failed(batch, e));
      }
    }
    if (this.inFlight) return Promise.resolve(failed(batch, new Error('a commit is already under way')));
    return new Promise((resolve) => {
      const seq = ++this.seq;
      this.inFlight = { seq, batch, resolve };
      const w = this.writer();
      // The thread keeps the process alive only while a commit is under way.
      w.ref();
      const { wire, transfer } = encodeBatch(batch);
      w.postMessage({ type: 'batch', seq, batch: wire }, transfer);
    });
  }

  private writer(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WRITER_URL, { workerData: { path: this.options.path, nodeId: this.options.nodeId } });
    w.unref();
    w.on('message', (m: { seq: number; results: WireResults }) => {
      w.unref();
      const f = this.inFlight;
      if (f?.seq !== m.seq) return;
      this.inFlight = undefined;
      f.resolve(decodeResults(m.results));
    });
    w.on('error', (e) => this.writerFailed(w, e));
    w.on('exit', () => this.writerFailed(w, new Error('the writer thread exited')));
    this.worker = w;
    return w;
  }

  private writerFailed(w: Worker, e: unknown): void {
    if (this.worker === w) this.worker = undefined;
    const f = this.inFlight;
    if (!f) return;
    this.inFlight = undefined;
    f.resolve(failed(f.batch, e));
  }

  /** Waits for the commit under way (the caller stops sending first), then closes the connection or thread. */
  async close(): Promise<void> {
    this.closed = true;
    this.committer?.close();
    this.committer = undefined;
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    await endWriterThread(w);
  }
}

/** Asks a writer thread to finish what it has and close its connection; ends it after 2 s regardless. */
export async function endWriterThread(w: Worker): Promise<void> {
  const exited = new Promise((r) => w.once('exit', r));
  w.ref();
  w.postMessage({ type: 'close' });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
  clearTimeout(timer);
  await w.terminate();
}
