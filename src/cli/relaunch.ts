/**
 * onnxruntime-node 1.30 segfaults while creating a session when the process's command line is long
 * (measured here: from ~15 KB when the session is created in a worker thread, ~28 KB on the main
 * thread), and 900 query paths easily pass that. So a long command line is moved into a temp file
 * and the CLI runs in a child process whose own command line is short.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ARGS_FILE_ENV = "LOOKALIKE_ARGS_FILE";
/** Well under the smallest length measured to crash. */
const MAX_COMMAND_LINE_BYTES = 4096;

/** The arguments this process should run, reading them from the hand-over file if there is one. */
export function cliArguments(argv: readonly string[] = process.argv.slice(2)): string[] {
  const file = process.env[ARGS_FILE_ENV];
  if (!file) return [...argv];
  delete process.env[ARGS_FILE_ENV];
  try {
    return JSON.parse(readFileSync(file, "utf8")) as string[];
  } finally {
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

export function commandLineTooLong(argv: readonly string[] = process.argv): boolean {
  return argv.reduce((bytes, arg) => bytes + Buffer.byteLength(arg) + 1, 0) > MAX_COMMAND_LINE_BYTES;
}

/** Runs `script` again in a child with the arguments in a file; resolves with the child's exit code. */
export function relaunchWithArgsFile(script: string, args: readonly string[]): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "lookalike-args-"));
  const file = path.join(dir, "args.json");
  writeFileSync(file, JSON.stringify(args));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      stdio: "inherit",
      env: { ...process.env, [ARGS_FILE_ENV]: file },
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward).on("SIGTERM", forward);
    child.on("close", (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}
