/**
 * The message cache's writer thread: it owns the durable connection and runs
 * each group commit (and its fsync) off the main thread, which meanwhile
 * gathers the next batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db.js';
import { BatchCommitter, type CommitEntry, type DeliveredUpdate } from './cache-commit.js';

const { path, nodeId } = workerData as { path: string; nodeId: string };
const committer = new BatchCommitter(openDb({ path }), nodeId);

type Request =
  | {
      type: 'batch';
      seq: number;
      entries: CommitEntry[];
      delivered: DeliveredUpdate[];
      cursors: [string, number][];
      now: number;
    }
  | { type: 'close' };

parentPort?.on('message', (m: Request) => {
  if (m.type === 'close') {
    committer.close();
    parentPort?.close();
    return;
  }
  parentPort?.postMessage({ seq: m.seq, results: committer.commit(m.entries, m.delivered, m.cursors, m.now) });
});
