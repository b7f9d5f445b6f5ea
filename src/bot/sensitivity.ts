/** The server setting's named levels map to the calibrated operating points of the engine. */
import type { RepostThresholds } from "../retrieval/reposts.ts";
import { SENSITIVITY_LEVELS, type Sensitivity } from "../retrieval/thresholds.ts";

export function thresholdsFor(level: Sensitivity): RepostThresholds {
  return SENSITIVITY_LEVELS[level];
}
