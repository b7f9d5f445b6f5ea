/**
 * Where the shared, read-only test material lives. Defaults to the `shared/` directory next to
 * the repository (…/main/test/support → …/shared); `LOOKALIKE_SHARED_DIR` overrides it.
 * Tests read from here and never copy these files into the repo.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const besideRepo = fileURLToPath(new URL("../../../shared/", import.meta.url));

export const sharedDir: string = path.resolve(process.env.LOOKALIKE_SHARED_DIR || besideRepo);
export const datasetsDir: string = path.join(sharedDir, "datasets");
export const modelsDir: string = path.join(sharedDir, "models");
