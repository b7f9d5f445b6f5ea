/**
 * LanceDB `require`s the CommonJS build of apache-arrow; an ESM import would load a second copy
 * whose schemas LanceDB rejects as "not equivalent". Everything in the project takes Arrow from here.
 */
import { createRequire } from "node:module";

export const arrow = createRequire(import.meta.url)("apache-arrow") as typeof import("apache-arrow");
