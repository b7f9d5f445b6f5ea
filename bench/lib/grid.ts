/**
 * The pooling × resize-mode grid: the raw-cosine rows of every library pooling under each resize
 * mode, picked out of a contender list by name (the shipped mode's rows carry no mode suffix).
 */

import type { PoolingName } from "../../src/retrieval/pooling.ts";
import { DESCRIPTOR_LABEL } from "../contenders/registry.ts";
import { LIBRARY_POOLINGS } from "./descriptors.ts";
import { RESIZE_MODES, type ResizeMode } from "./feature-cache.ts";
import { table } from "./markdown.ts";

export const gridName = (pooling: PoolingName, mode: ResizeMode, shippedMode: ResizeMode): string =>
  mode === shippedMode ? DESCRIPTOR_LABEL[pooling] : `${DESCRIPTOR_LABEL[pooling]}, resize "${mode}"`;

/** One row per pooling, one column group per mode; `cells` formats a contender (by name) or returns undefined. */
export function poolingModeTable(
  shippedMode: ResizeMode,
  metricLabels: readonly string[],
  cells: (name: string) => readonly string[] | undefined,
): string {
  const modes = [shippedMode, ...RESIZE_MODES.filter((m) => m !== shippedMode)];
  const headers = ["pooling", ...modes.flatMap((m) => metricLabels.map((l) => `${l} (${m})`))];
  const rows = LIBRARY_POOLINGS.map((p) => [
    DESCRIPTOR_LABEL[p],
    ...modes.flatMap((m) => cells(gridName(p, m, shippedMode)) ?? metricLabels.map(() => "–")),
  ]);
  return table(headers, rows);
}

/** The (pooling, mode) whose score is highest, by the given scorer over contender names. */
export function bestPoolingMode(
  shippedMode: ResizeMode,
  score: (name: string) => number,
): { pooling: PoolingName; mode: ResizeMode; score: number } {
  let best = { pooling: LIBRARY_POOLINGS[0]!, mode: shippedMode, score: -Infinity };
  for (const pooling of LIBRARY_POOLINGS) {
    for (const mode of RESIZE_MODES) {
      const s = score(gridName(pooling, mode, shippedMode));
      if (s > best.score) best = { pooling, mode, score: s };
    }
  }
  return best;
}
