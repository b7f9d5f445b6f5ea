/**
 * Several images per job. Every job costs the same fixed work whatever it carries (BullMQ's Lua
 * scripts to add, take and finish it, its events read by every producer, a lock, two payload round
 * trips), and on a machine that also runs the model that fixed cost is most of what the queue adds
 * per image (`npm run bench -- --only queue`). So images queued while the workers are busy ride
 * together, and a lone image (the usual case in a quiet server) goes at once, alone.
 */

export interface BatchLimits {
  /** Images per job at most. */
  readonly images: number;
  /** Bytes per job at most (the request is one Redis value; keep it well under Redis's 512 MB). */
  readonly bytes: number;
  /** How long the first image of a job waits for company while earlier jobs are in the workers' hands. */
  readonly windowMs: number;
}

/**
 * 16 images: with `lookalike index`'s 32 images in flight, two jobs keep one worker's two slots
 * busy. Against 8, the queue's CPU per image (every process, against in-process) fell from 4.2–4.4
 * to 2.9–3.6 ms and from 3.1 to 0.7 ms in three alternating runs on a loaded 2-core machine, most
 * of it the fixed work per job; a worker holding two jobs holds no more than 32 images when it
 * dies (retried elsewhere, not lost). 5 ms: a fraction of one image's analysis, so waiting for
 * company never costs more than it saves.
 */
export const DEFAULT_BATCH: BatchLimits = { images: 16, bytes: 32 * 1024 * 1024, windowMs: 5 };

/** What the open batch looks like when deciding whether to send it. */
export interface BatchState {
  readonly images: number;
  readonly bytes: number;
  /** Jobs sent earlier and not answered yet. */
  readonly outstanding: number;
  /** Since its first image arrived. */
  readonly ageMs: number;
}

/**
 * Send now? When it is full, when nothing earlier is in the workers' hands (no one to wait
 * behind: waiting would only add latency), or when its first image has waited long enough.
 */
export function batchReady(state: BatchState, limits: BatchLimits): boolean {
  if (state.images === 0) return false;
  return state.images >= limits.images || state.bytes >= limits.bytes || state.outstanding === 0 || state.ageMs >= limits.windowMs;
}

/**
 * Collects items into batches by `batchReady` and hands each batch to `send`. The owner reports
 * answered jobs through `answered()`, which may release the open batch.
 */
export class Batcher<T extends { readonly bytes: number }> {
  private open: T[] = [];
  private bytes = 0;
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private outstanding = 0;

  constructor(
    private readonly limits: BatchLimits,
    private readonly send: (items: T[]) => void,
  ) {}

  add(item: T): void {
    // An item that would overflow the open batch's bytes starts the next one.
    if (this.open.length > 0 && this.bytes + item.bytes > this.limits.bytes) this.flush();
    if (this.open.length === 0) this.openedAt = performance.now();
    this.open.push(item);
    this.bytes += item.bytes;
    this.consider();
  }

  /** Sends `item` at once in a job of its own (someone is waiting for it). */
  sendAlone(item: T): void {
    this.outstanding++;
    this.send([item]);
  }

  /** Takes an item back before its batch is sent; false once it has been sent. */
  withdraw(item: T): boolean {
    const at = this.open.indexOf(item);
    if (at < 0) return false;
    this.open.splice(at, 1);
    this.bytes -= item.bytes;
    if (this.open.length === 0) this.clearTimer();
    return true;
  }

  /** A job sent earlier was answered (or given up): one fewer to wait behind. */
  answered(): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    this.consider();
  }

  /** Every item not yet sent, taken back (closing). */
  drain(): T[] {
    const items = this.open;
    this.open = [];
    this.bytes = 0;
    this.clearTimer();
    return items;
  }

  private consider(): void {
    const state = { images: this.open.length, bytes: this.bytes, outstanding: this.outstanding, ageMs: performance.now() - this.openedAt };
    if (batchReady(state, this.limits)) this.flush();
    else if (this.open.length > 0) this.timer ??= setTimeout(() => this.flush(), this.limits.windowMs - state.ageMs);
  }

  private flush(): void {
    const items = this.drain();
    if (items.length === 0) return;
    this.outstanding++;
    this.send(items);
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
