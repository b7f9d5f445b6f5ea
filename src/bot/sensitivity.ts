/** The server setting's named levels map to the calibrated operating points of the engine. */
import { SENSITIVITY_LEVELS, type RepostCalibration, type Sensitivity } from "../retrieval/thresholds.ts";

export function thresholdsFor(level: Sensitivity): RepostCalibration {
  return SENSITIVITY_LEVELS[level];
}
