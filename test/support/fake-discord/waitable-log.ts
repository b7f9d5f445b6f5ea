/**
 * An append-only list that tests can wait on: `waitFor` first looks at what is already there,
 * then at what arrives, so a test never misses an event that happened before it started waiting
 * (the bot often answers within the same tick as the event that triggered it).
 */
export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Only entries at or after this index count (see `FakeDiscord.requestCursor()`). */
  since?: number;
}

interface Waiter<T> {
  predicate: (entry: T) => boolean;
  since: number;
  resolve: (entry: T) => void;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

export class WaitableLog<T> {
  readonly #entries: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();

  constructor(private readonly describe: (entry: T) => string) {}

  get entries(): readonly T[] {
    return this.#entries;
  }

  get length(): number {
    return this.#entries.length;
  }

  push(entry: T): void {
    const index = this.#entries.push(entry) - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.since && waiter.predicate(entry)) waiter.resolve(entry);
    }
  }

  clear(): void {
    this.#entries.length = 0;
  }

  find(predicate: (entry: T) => boolean, since = 0): T | undefined {
    return this.#entries.slice(since).find(predicate);
  }

  waitFor(predicate: (entry: T) => boolean, what: string, options: WaitOptions = {}): Promise<T> {
    const since = options.since ?? 0;
    const existing = this.find(predicate, since);
    if (existing !== undefined) return Promise.resolve(existing);

    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        since,
        resolve: (entry) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(entry);
        },
      };
      // Not unref'd on purpose: a test awaiting only this must not exit before the timeout fires.
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.#entries.slice(since).map(this.describe);
        const seenText = seen.length > 0 ? seen.map((line) => `\n  - ${line}`).join("") : " nothing";
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Seen:${seenText}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
