/**
 * A set that keeps only the last `limit` values added: what a link or a
 * feed remembers having given, so that a repeat is dropped, without the
 * memory growing for ever. Adding a value it holds does not refresh it.
 */
export class RecentSet<T> {
  private readonly values = new Set<T>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('a recent set holds at least one value');
  }

  has(value: T): boolean {
    return this.values.has(value);
  }

  /** Adds a value; past the limit the oldest is forgotten. */
  add(value: T): void {
    this.values.add(value);
    if (this.values.size > this.limit) this.values.delete(this.values.values().next().value as T);
  }

  get size(): number {
    return this.values.size;
  }
}
