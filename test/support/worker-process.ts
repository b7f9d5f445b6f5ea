/**
 * An embedding worker in a child process, started the way `npm run worker` starts it
 * (`node --import tsx src/worker.ts`), with the shared model and debug logs, so a test can count
 * the jobs it finished and kill it like a machine that dies.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { modelsDir } from "./paths.ts";

const ENTRY = fileURLToPath(new URL("../../src/worker.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Images it answered, by outcome ("analyzed", "refused", "failed"), from its log. */
  readonly finished: Map<string, number>;
  /** Each answered image's own time in the worker (ms, as it logs it), in the order they finished. */
  readonly durations: number[];
  /** Resolves at its first answered image. */
  readonly firstJob: Promise<void>;
  /** Its log so far (for assertion messages). */
  log(): string;
  /** Stops it: SIGTERM (finish the jobs in hand) or SIGKILL (a dead machine); resolves when it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

interface LogLine {
  msg?: string;
  outcome?: string;
  ms?: number;
}

export async function startWorkerProcess(env: Readonly<Record<string, string>>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    cwd: REPO,
    env: { ...process.env, LOOKALIKE_MODELS_DIR: modelsDir, LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const finished = new Map<string, number>();
  const durations: number[] = [];
  let output = "";
  let buffered = "";
  let onReady: () => void = () => {};
  let onFirstJob: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const firstJob = new Promise<void>((resolve) => (onFirstJob = resolve));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        continue;
      }
      if (entry.msg === "embedding worker ready") onReady();
      if (entry.msg === "job failed") finished.set("failed", (finished.get("failed") ?? 0) + 1);
      if (entry.msg === "image done" && entry.outcome) {
        finished.set(entry.outcome, (finished.get(entry.outcome) ?? 0) + 1);
        if (typeof entry.ms === "number") durations.push(entry.ms);
        onFirstJob();
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failedToStart = exited.then(() => {
    throw new Error(`the worker exited before it was ready (${child.exitCode ?? child.signalCode}):\n${output}`);
  });
  await Promise.race([ready, failedToStart]);
  failedToStart.catch(() => {}); // exiting later is the test's business (stop)
  return {
    child,
    finished,
    durations,
    firstJob,
    log: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
