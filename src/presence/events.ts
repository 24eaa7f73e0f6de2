/** A typed list of listeners; a listener that throws is logged and never stops the others. */
export class Hook<E> {
  private readonly listeners = new Set<(e: E) => void>();

  constructor(private readonly onError: (e: unknown) => void) {}

  /** Adds a listener; returns the function that removes it. */
  on(listener: (e: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}
