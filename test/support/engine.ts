/** Opens the real engine on the real model from ../shared, never downloading. */
import { type EngineOptions, LookalikeEngine } from "../../src/retrieval/engine.ts";
import { modelsDir } from "./paths.ts";

export function openTestEngine(dbDir: string, options: Partial<EngineOptions> = {}): Promise<LookalikeEngine> {
  return LookalikeEngine.open({ dbDir, modelsDir, download: false, ...options });
}
