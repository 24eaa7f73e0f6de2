/**
 * The message cache's writer thread: it owns the durable connection and runs
 * each group commit (and its fsync) off the main thread, which meanwhile
 * gathers the next batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CommitBatch } from '../../presence/ports.js';
import { BatchCommitter } from './batch-committer.js';
import { openDb } from './db.js';

const { path, nodeId } = workerData as { path: string; nodeId: string };
const committer = new BatchCommitter(openDb({ path }), nodeId);

type Request = { type: 'batch'; seq: number; batch: CommitBatch } | { type: 'close' };

parentPort?.on('message', (m: Request) => {
  if (m.type === 'close') {
    committer.close();
    parentPort?.close();
    return;
  }
  parentPort?.postMessage({ seq: m.seq, results: committer.commit(m.batch) });
});
