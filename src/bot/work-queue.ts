/**
 * A bounded queue between Discord events and the engine: at most `concurrency` tasks run, at most
 * `limit` wait or run. `offer` refuses work when the queue is full (a burst of uploads must not
 * grow memory without bound: live images are then deferred to the catch-up, which reads them
 * from Discord later); `submit` waits for room, so a backfill or catch-up slows down instead of
 * crowding out live messages. The bot runs one queue per lane (interactive, background).
 */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly limit: number,
  ) {}

  /** Tasks queued or running. */
  get depth(): number {
    return this.running + this.waiting.length;
  }

  /** Whether `count` more tasks would be accepted by `offer` now. */
  hasRoom(count = 1): boolean {
    return this.depth + count <= this.limit;
  }

  /** Runs `task` when a slot frees up; throws QueueFullError at once if the queue is full. */
  offer<T>(task: () => Promise<T>): Promise<T> {
    if (this.depth >= this.limit) return Promise.reject(new QueueFullError(`work queue full (${this.limit} tasks)`));
    return this.enqueue(task);
  }

  /** Waits until the queue has room (or `signal` aborts), then behaves like `offer`. */
  async submit<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    // Leave a quarter of the queue for live work.
    const room = Math.max(1, Math.floor(this.limit * 0.75));
    while (this.depth >= room) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        this.roomWaiters.push(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
    signal?.throwIfAborted();
    return this.enqueue(task);
  }

  private async enqueue<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so `running` never overshoots.
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
      this.roomWaiters.shift()?.();
    }
  }
}
