/**
 * The message cache's writer thread: it owns the durable connection and runs
 * each group commit (and its fsync) off the main thread, which meanwhile
 * gathers the next batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchCommitter } from './batch-committer.js';
import { decodeBatch, encodeResults, type WireBatch } from './commit-wire.js';
import { openDb } from './db.js';

const { path, nodeId } = workerData as { path: string; nodeId: string };
const committer = new BatchCommitter(openDb({ path }), nodeId);

type Request = { type: 'batch'; seq: number; batch: WireBatch } | { type: 'close' };

parentPort?.on('message', (m: Request) => {
  if (m.type === 'close') {
    committer.close();
    parentPort?.close();
    return;
  }
  const { wire, transfer } = encodeResults(committer.commit(decodeBatch(m.batch)));
  parentPort?.postMessage({ seq: m.seq, results: wire }, transfer);
});
