/**
 * Which pictures are stored, held out or unused, and which split every picture belongs to: both
 * decided by a hash of the picture alone (its canonical key, so two listings of one picture always
 * land together), so the quick slice and the full run agree on every picture they share.
 */
import { halfOf, seedOf } from "../lib/random.ts";
import { canonicalPicture } from "../repost/known-duplicates.ts";
import type { Split } from "./kinds/types.ts";

export const SALT = "renderings-v1";

/** Pictures that the shared sets list twice count as one (bench/repost/known-duplicates.ts). */
export const canonical: (key: string) => string = canonicalPicture();

/** fit or test, for originals, negatives and collage fillers alike. */
export const splitOf = (key: string): Split => (halfOf(canonical(key), `${SALT}/split`) === "calibration" ? "fit" : "test");

export type Role = "stored" | "held-out" | "unused";

/** Shares of each set: stored (the server's history), held out (never stored: negatives and fillers), the rest unused. */
export interface RoleShares {
  readonly stored: number;
  readonly heldOut: number;
}

export function roleOf(key: string, dataset: string, shares: RoleShares): Role {
  const u = seedOf(SALT, "role", dataset, canonical(key)) / 2 ** 32;
  if (u < shares.heldOut) return "held-out";
  return u < shares.heldOut + shares.stored ? "stored" : "unused";
}
