/**
 * Repost thresholds, calibrated by `npm run bench -- --only repost` (bench/RESULTS.md explains how):
 * chosen on one half of a corpus of 1,896 transformed copies of 79 originals and ~7,300 non-repost
 * queries (leave-one-out over 7,056 indexed images, framed copies of distractors), at half the
 * promised false-repost rate, and checked on the other half. The whitened set is calibrated over
 * whitenings learned from 2,000, 3,000, 5,000 and all 7,056 images at once, so it holds for every
 * collection size that has one. Valid for the shipped model, pooling and
 * resize mode only (cosines of another descriptor live on another scale): re-run the benchmark after
 * changing any of them.
 *
 * Two sets, because a verdict is decided in one of two metric spaces (engine.checkRepost): plain
 * cosine while a collection is too small to learn a whitening from, and cosine after the
 * collection's own PCA-whitening once it has one (centred and whitened cosines live on another
 * scale, so each space has its own calibration).
 * Named sensitivity levels map to operating points on that calibration.
 */
import type { DecisionSpace, RepostThresholds } from "./reposts.ts";

export type RepostCalibration = Readonly<Record<DecisionSpace, RepostThresholds>>;

/**
 * "balanced": ≤ 0.5 % false reposts promised (0.25 % on the calibration half; on the test half
 * 0.28 % whitened, 0.39 % plain in the run that chose them).
 */
export const DEFAULT_REPOST_THRESHOLDS: RepostCalibration = {
  raw: {
    exactMaxPhash: 4,
    exactMaxDhash: 6,
    exactMinCosine: 0.85,
    nearMinCosine: 0.903,
    hashNearMaxPhash: 16,
    hashNearMinCosine: 0.86,
    similarMinCosine: 0.867,
  },
  whitened: {
    exactMaxPhash: 8,
    exactMaxDhash: 6,
    exactMinCosine: 0.3,
    nearMinCosine: 0.392,
    hashNearMaxPhash: 16,
    hashNearMinCosine: 0.26,
    similarMinCosine: 0.205,
  },
};

export type Sensitivity = "strict" | "balanced" | "loose";

/** Named operating points for the bot's `/repost settings sensitivity` (balanced = the default). */
export const SENSITIVITY_LEVELS: Record<Sensitivity, RepostCalibration> = {
  /** ≤ 0.2 % false reposts promised (0.1 % on the calibration half). */
  strict: {
    raw: { ...DEFAULT_REPOST_THRESHOLDS.raw, nearMinCosine: 0.909, hashNearMinCosine: 0.88 },
    whitened: { ...DEFAULT_REPOST_THRESHOLDS.whitened, nearMinCosine: 0.449, hashNearMaxPhash: 20, hashNearMinCosine: 0.34 },
  },
  balanced: DEFAULT_REPOST_THRESHOLDS,
  /** ≤ 2 % false reposts promised (1 % on the calibration half). */
  loose: {
    raw: { ...DEFAULT_REPOST_THRESHOLDS.raw, nearMinCosine: 0.891, hashNearMaxPhash: 8, hashNearMinCosine: 0.78 },
    whitened: { ...DEFAULT_REPOST_THRESHOLDS.whitened, nearMinCosine: 0.319, hashNearMinCosine: 0.22 },
  },
};
