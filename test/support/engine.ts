/** Opens the real engine on the real model from ../shared, never downloading. */
import { type EngineOptions, LookalikeEngine } from "../../src/retrieval/engine.ts";
import { modelsDir } from "./paths.ts";

/** `db`: a database folder or an object-store URI (see ./object-store.ts). */
export function openTestEngine(db: string, options: Partial<EngineOptions> = {}): Promise<LookalikeEngine> {
  return LookalikeEngine.open({ db, modelsDir, download: false, ...options });
}
