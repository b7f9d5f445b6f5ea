/** Runs the real `lookalike` command in a child process, as users and other tools do. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { modelsDir } from "./paths.ts";

const BIN = fileURLToPath(new URL("../../bin/lookalike.mjs", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines. */
  lines: Record<string, unknown>[];
}

export interface CliRunOptions {
  readonly stdin?: string;
  readonly cwd?: string;
  /** Added to (or, as undefined, removed from) this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, LOOKALIKE_MODELS_DIR: modelsDir, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, stdout, stderr, lines });
    });
    child.stdin.end(options.stdin ?? "");
  });
}
