/**
 * The notifier's writer thread: it owns a durable connection
 * (synchronous=FULL) and runs the notifier's hot commits (claims, step ends,
 * folds, ladder starts) and their fsyncs off the main thread, whose SNPP and
 * SMTP connections would otherwise stall on each one.
 *
 * Calls are run in the order they were posted. Those that queued up while
 * the thread was busy are committed together: one transaction, one fsync,
 * each call in a savepoint of its own, so a call that fails is undone alone
 * and answered with its error. Every call is answered only after the commit
 * (durable before it resolves); a commit that fails fails them all.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './db.js';
import { NOTIFY_WRITES, type NotifyWrite, SqliteNotify } from './notify.js';

const { path } = workerData as { path: string };
const db = openDb({ path });
const notify = new SqliteNotify(db, { durable: true });

type Call = { type: 'call'; seq: number; method: NotifyWrite; args: unknown[] };
type Request = Call | { type: 'close' };
type Answer = { seq: number; value?: unknown; error?: string };

const messageOf = (e: unknown) => String((e as Error)?.message ?? e);

/** A settled item's reason crosses the thread as its message (an Error's class does not). */
const portable = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map((r: PromiseSettledResult<unknown>) =>
        r?.status === 'rejected' ? { status: 'rejected', reason: { message: messageOf(r.reason) } } : r,
      )
    : v;

function run(c: Call): Answer {
  try {
    if (!NOTIFY_WRITES.includes(c.method)) throw new Error(`not a notifier write: ${String(c.method)}`);
    const f = notify[c.method] as (...args: unknown[]) => unknown;
    // Nested in the batch's transaction, db.transaction is a savepoint: a throw undoes this call only.
    return { seq: c.seq, value: portable(db.transaction(() => f.apply(notify, c.args))()) };
  } catch (e) {
    return { seq: c.seq, error: messageOf(e) };
  }
}

let queue: Call[] = [];
let closing = false;

function drain(): void {
  const calls = queue;
  queue = [];
  let answers: Answer[];
  try {
    answers = db.transaction(() => calls.map(run)).immediate();
  } catch (e) {
    answers = calls.map((c) => ({ seq: c.seq, error: messageOf(e) }));
  }
  for (const a of answers) parentPort?.postMessage(a);
  if (closing) {
    db.close();
    parentPort?.close();
  }
}

parentPort?.on('message', (m: Request) => {
  if (m.type === 'close') {
    closing = true;
    if (queue.length === 0) drain();
    return;
  }
  // Whatever arrives before the queue is drained joins the same commit.
  if (queue.push(m) === 1) setImmediate(drain);
});
