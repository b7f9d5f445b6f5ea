/**
 * Discord ids are snowflakes: milliseconds since the Discord epoch in the top 42 bits, then
 * worker/process/increment bits. discord.js derives `createdAt`/`createdTimestamp` from them,
 * and the fake orders message history by them, so generated ids must carry real timestamps.
 */
export const DISCORD_EPOCH_MS = 1_420_070_400_000n;
const TIMESTAMP_SHIFT = 22n;
/** Backdated ids use worker id 1 so they never collide with "now" ids (worker 0). */
const BACKDATED_WORKER_BITS = 1n << 17n;
const INCREMENT_MASK = 0xfffn;

export function snowflakeToTimestamp(id: string): number {
  return Number((BigInt(id) >> TIMESTAMP_SHIFT) + DISCORD_EPOCH_MS);
}

/** Smallest snowflake of a given millisecond: handy as a `before`/`after` bound. */
export function timestampToSnowflake(ms: number): string {
  return ((BigInt(ms) - DISCORD_EPOCH_MS) << TIMESTAMP_SHIFT).toString();
}

export function compareSnowflakes(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}

export class SnowflakeGenerator {
  #last = 0n;
  #backdatedIncrement = 0n;

  /**
   * Without `at`: strictly increasing ids for "now" (two calls in the same millisecond differ in
   * the low bits), so newer objects always sort after older ones, as on Discord.
   * With `at`: an id for that moment (e.g. backdated history); unique, but not ordered after `now`.
   */
  next(at?: Date | number): string {
    if (at !== undefined) {
      const ms = BigInt(typeof at === "number" ? at : at.getTime());
      this.#backdatedIncrement = (this.#backdatedIncrement + 1n) & INCREMENT_MASK;
      const timestampBits = (ms - DISCORD_EPOCH_MS) << TIMESTAMP_SHIFT;
      return (timestampBits | BACKDATED_WORKER_BITS | this.#backdatedIncrement).toString();
    }
    const candidate = (BigInt(Date.now()) - DISCORD_EPOCH_MS) << TIMESTAMP_SHIFT;
    this.#last = candidate > this.#last ? candidate : this.#last + 1n;
    return this.#last.toString();
  }
}
