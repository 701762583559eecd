// Waiting for listener events in the bench: a callback fires, a probe reads the state it left.

/** Something listeners fire and waiters probe. */
export interface Arrival {
  /** Tells every waiter to probe again. */
  fire(): void;
  /** Resolves with the first value `probe` returns other than `undefined`; rejects after `timeoutMs` naming `what`. */
  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T>;
}

/** A new arrival point with no waiters. */
export function arrival(): Arrival {
  const waiters = new Set<() => void>();
  return {
    fire: () => waiters.forEach((check) => check()),
    until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = (): void => {
          let value: T | undefined;
          try {
            value = probe();
          } catch (error) {
            done();
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (value !== undefined) {
            done();
            resolve(value);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
