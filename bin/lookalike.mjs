#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the installed command and `npm run lookalike` are the same code.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
