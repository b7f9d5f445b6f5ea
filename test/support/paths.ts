/**
 * Where the shared, read-only test material lives. Defaults to the `shared/` directory next to
 * the repository (…/main/test/support → …/shared); `LOOKALIKE_SHARED_DIR` overrides it.
 * Tests read from here and never copy these files into the repo.
 *
 * Every test file that needs the shared models or datasets imports this module (directly or
 * through another support module), so when they are missing the file stops here, at once, with
 * one line saying why, before any test starts a server or a bot that could keep it waiting.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const besideRepo = fileURLToPath(new URL("../../../shared/", import.meta.url));

export const sharedDir: string = path.resolve(process.env.LOOKALIKE_SHARED_DIR || besideRepo);
export const datasetsDir: string = path.join(sharedDir, "datasets");
export const modelsDir: string = path.join(sharedDir, "models");

if (!existsSync(modelsDir) || !existsSync(datasetsDir)) {
  const named = process.env.LOOKALIKE_SHARED_DIR ? "LOOKALIKE_SHARED_DIR" : "../shared";
  const problem = existsSync(sharedDir) ? `${named} at ${sharedDir} has no models/ or no datasets/` : `${named} not found at ${sharedDir}`;
  process.stderr.write(`${problem}: the tests need the shared models and datasets; clone next to shared/ or set LOOKALIKE_SHARED_DIR\n`);
  process.exit(1);
}
