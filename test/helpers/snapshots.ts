/** Subscribes a listener and returns its unsubscribe function (Firestore's onSnapshot shape). */
export type Subscribe<S> = (next: (snapshot: S) => void, error: (error: Error) => void) => () => void;

/**
 * Resolves with the first snapshot that satisfies `predicate`, then unsubscribes; rejects on a
 * listener error or after `timeoutMs` (delete-user-data's waitForDocumentDeletion, generalised).
 */
export function waitForSnapshot<S>(what: string, subscribe: Subscribe<S>, predicate: (snapshot: S) => boolean, timeoutMs = 20_000): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined = undefined;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      finish();
    };
    const timer = setTimeout(() => settle(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    unsubscribe = subscribe(
      (snapshot) => {
        if (predicate(snapshot)) settle(() => resolve(snapshot));
      },
      (error) => settle(() => reject(new Error(`listener failed while waiting for ${what}: ${error.message}`))),
    );
    // The first snapshot may have settled the wait before onSnapshot returned its unsubscribe.
    if (settled) unsubscribe();
  });
}

/** A promise settled from outside, that a test awaits with a deadline. */
export class Signal<T = void> {
  private settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
  private readonly promise = new Promise<T>((resolve, reject) => {
    this.settle = { resolve, reject };
  });
  private done = false;

  constructor(private readonly what: string) {
    // A rejection nobody awaits yet must not crash the run; wait() reports it.
    this.promise.catch(() => undefined);
  }

  /** Whether the signal has fired. */
  get fired(): boolean {
    return this.done;
  }

  /** Fires the signal (later calls are ignored). */
  resolve(value: T): void {
    if (this.done) return;
    this.done = true;
    this.settle.resolve(value);
  }

  /** Fails the signal (later calls are ignored). */
  reject(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.settle.reject(error);
  }

  /** The value, or an error naming what was awaited after `timeoutMs`. */
  wait(timeoutMs = 20_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${this.what}`)), timeoutMs);
    });
    return Promise.race([this.promise, deadline]).finally(() => clearTimeout(timer));
  }
}

/**
 * Resolves with the first value `probe` gives other than `undefined`, checked now and each time
 * the owner calls the checks in `changes` (e.g. on every snapshot); rejects with `failure()` as
 * soon as it is set, or after `timeoutMs`.
 */
export function waitOnChanges<T>(
  what: string,
  changes: Set<() => void>,
  probe: () => T | undefined,
  failure: () => Error | undefined,
  timeoutMs: number,
): Promise<T> {
  const signal = new Signal<T>(what);
  const check = (): void => {
    const error = failure();
    if (error) return signal.reject(error);
    const value = probe();
    if (value !== undefined) signal.resolve(value);
  };
  changes.add(check);
  check();
  return signal.wait(timeoutMs).finally(() => changes.delete(check));
}
