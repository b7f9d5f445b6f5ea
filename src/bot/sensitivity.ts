/**
 * The server setting's named levels (`/repost settings sensitivity`) are the engine's calibrated
 * operating points: their names and order come from SENSITIVITY_LEVELS and nowhere else.
 */
import { type RepostCalibration, SENSITIVITY_LEVELS, type Sensitivity } from "../retrieval/thresholds.ts";

export type { Sensitivity } from "../retrieval/thresholds.ts";

function isSensitivity(name: string): name is Sensitivity {
  return Object.hasOwn(SENSITIVITY_LEVELS, name);
}

/** strict, balanced, loose: every level, in the order the choices list them. */
export const SENSITIVITIES: readonly Sensitivity[] = Object.keys(SENSITIVITY_LEVELS).filter(isSensitivity);

export function thresholdsFor(level: Sensitivity): RepostCalibration {
  return SENSITIVITY_LEVELS[level];
}
