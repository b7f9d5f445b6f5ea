#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the installed command and `npm run lookalike` are the same code.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register();
const { cliArguments, commandLineTooLong, relaunchWithArgsFile } = await import("../src/cli/relaunch.ts");
if (commandLineTooLong()) {
  process.exitCode = await relaunchWithArgsFile(fileURLToPath(import.meta.url), process.argv.slice(2));
} else {
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(cliArguments());
}
