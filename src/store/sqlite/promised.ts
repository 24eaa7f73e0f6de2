/**
 * better-sqlite3 answers synchronously; the ports are async. Each SQLite
 * adapter is a plain synchronous class (its transactions stay simple
 * `db.transaction` calls), offered to the capabilities through `promised`:
 * every public method returns a promise, and a throw becomes a rejection.
 * The type check of `promised(x)` against a port is what proves the adapter
 * implements it.
 */

/** T's methods, each returning a promise of what it returned. */
export type Promised<T> = {
  // biome-ignore lint/suspicious/noExplicitAny: any function shape is mapped.
  [K in keyof T as T[K] extends (...args: any[]) => any ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export function promised<T extends object>(target: T): Promised<T> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (let p = Object.getPrototypeOf(target); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    for (const name of Object.getOwnPropertyNames(p)) {
      const f = (target as Record<string, unknown>)[name];
      if (name === 'constructor' || name in out || typeof f !== 'function') continue;
      out[name] = async (...args: unknown[]) => f.apply(target, args);
    }
  return out as unknown as Promised<T>;
}
