/**
 * Repost thresholds, calibrated by `npm run bench -- --only repost` (bench/RESULTS.md explains how).
 * Named sensitivity levels map to operating points on that calibration.
 */
import type { RepostThresholds } from "./reposts.ts";

export const DEFAULT_REPOST_THRESHOLDS: RepostThresholds = {
  exactMaxPhash: 6,
  exactMaxDhash: 10,
  exactMinCosine: 0.9,
  nearMinCosine: 0.8,
  hashNearMaxPhash: 12,
  hashNearMinCosine: 0.6,
  similarMinCosine: 0.6,
};

export type Sensitivity = "strict" | "balanced" | "loose";

/** Named operating points for the bot's `/repost settings sensitivity` (balanced = the default). */
export const SENSITIVITY_LEVELS: Record<Sensitivity, RepostThresholds> = {
  strict: { ...DEFAULT_REPOST_THRESHOLDS, nearMinCosine: DEFAULT_REPOST_THRESHOLDS.nearMinCosine + 0.05 },
  balanced: DEFAULT_REPOST_THRESHOLDS,
  loose: { ...DEFAULT_REPOST_THRESHOLDS, nearMinCosine: DEFAULT_REPOST_THRESHOLDS.nearMinCosine - 0.05 },
};
