/** Seeded randomness, so every generated image, split and training run is the same on every run. */
import { createHash } from "node:crypto";

/** mulberry32: small, fast, and good enough for sampling parameters. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed derived from any label, so each named thing gets its own independent stream. */
export function seedOf(...parts: (string | number)[]): number {
  return createHash("sha256").update(parts.join("\u0000")).digest().readUInt32BE(0);
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Which half an item falls in, decided by a hash of its id alone: the split does not depend on
 * which other items exist, so the quick slice and the full run agree on every shared item.
 */
export function halfOf(id: string, salt: string): "calibration" | "test" {
  return seedOf(salt, id) % 2 === 0 ? "calibration" : "test";
}

export const between = (random: () => number, low: number, high: number): number => low + (high - low) * random();

export function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}
