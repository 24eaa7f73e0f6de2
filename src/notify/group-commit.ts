/**
 * A group commit: the writes asked for within a short window (`windowMs`
 * after the first; 0: the same turn of the event loop) go to the store as
 * one batch (on SQLite one transaction, so one fsync for all of them instead
 * of one each). One batch is written at a time: what is asked for while one
 * is under way waits for it and goes in the next batch, so the busier the
 * store, the larger the batches (and the fewer the fsyncs). Each caller
 * still waits for its own write to be durable and gets its own result or
 * error; a batch's failure is settled per item by the store (see
 * NotifyStore.recordStepEnds). The window is plumbing time, like a
 * socket's, not the ladder's: it runs on the real clock.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<PromiseSettledResult<R>[]>,
    private readonly windowMs = 0,
    private readonly maxBatch = 500,
  ) {}

  /** Resolves once the item's batch is committed, with the item's own result. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.writing) return; // goes when the batch under way is written
      if (this.pending.length >= this.maxBatch) this.flushNow();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) this.timer = setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** A full batch goes at once, without waiting out the window. */
  private flushNow(): void {
    clearTimeout(this.timer);
    this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.writing) return;
    const batch = this.pending.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.writing = true;
    const settle = (each: (b: (typeof batch)[number], i: number) => void) => {
      batch.forEach(each);
      this.writing = false;
      // Those that asked meanwhile have waited a whole write already: their batch goes at once.
      if (this.pending.length) this.flushNow();
    };
    let written: Promise<PromiseSettledResult<R>[]>;
    try {
      written = this.write(batch.map((b) => b.item));
    } catch (e) {
      written = Promise.reject(e);
    }
    written.then(
      (results) =>
        settle((b, i) => {
          const r = results[i];
          if (r?.status === 'fulfilled') b.resolve(r.value);
          else b.reject(r ? r.reason : new Error('the store returned no result for this write'));
        }),
      (e: unknown) => settle((b) => b.reject(e)),
    );
  }
}
