/**
 * A descriptor turns a conv feature map into the vector that is stored and compared. Its name is
 * recorded with each collection, because vectors from different descriptors cannot be compared.
 */

import { LookalikeError } from "./errors.ts";
import { type FeatureMap, POOLING_NAMES, type PoolingName, pool } from "./pooling.ts";

export interface Descriptor {
  readonly name: string;
  readonly dimension: number;
  describe(map: FeatureMap): Float32Array;
}

/**
 * The shipped default, chosen by measurement (bench/RESULTS.md): max pooling gave the fused repost
 * verdict the best recall at the calibrated false-repost budget, at no cost in retrieval quality.
 */
export const DEFAULT_POOLING: PoolingName = "mac";

export function poolingDescriptor(pooling: PoolingName, channels: number): Descriptor {
  if (!POOLING_NAMES.includes(pooling)) {
    throw new LookalikeError("internal", `Unknown pooling "${pooling}". Known: ${POOLING_NAMES.join(", ")}.`);
  }
  return { name: pooling, dimension: channels, describe: (map) => pool(pooling, map) };
}

export function parsePooling(value: string): PoolingName {
  const name = value.toLowerCase() as PoolingName;
  if (!POOLING_NAMES.includes(name)) {
    throw new LookalikeError("internal", `Unknown pooling "${value}". Choose one of: ${POOLING_NAMES.join(", ")}.`);
  }
  return name;
}
