/**
 * A Redis server for the tests: Debian's `redis-server` on 127.0.0.1 at a free port, with no
 * persistence (`--save "" --appendonly no`), its working directory in a temp dir, stopped by
 * `stop()` or, at the latest, when the test process exits. No npm package here downloads or
 * builds Redis (there is no internet); `.ci/run` installs the Debian package when it is missing.
 *
 * Importing this module without `redis-server` on the PATH stops the test file at once with one
 * line, like a missing ../shared (./paths.ts): the queue tests fail, they are never skipped.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { tempDir } from "./temp.ts";

// Another binary (or a missing one, to see the failure) through LOOKALIKE_TEST_REDIS_SERVER.
const REDIS_SERVER = process.env.LOOKALIKE_TEST_REDIS_SERVER || "redis-server";

if (spawnSync(REDIS_SERVER, ["--version"], { stdio: "ignore" }).error) {
  process.stderr.write(
    `${REDIS_SERVER} not found: the embedding-queue tests and benchmark need Debian's redis-server (apt-get install -y redis-server; .ci/run installs it)\n`,
  );
  process.exit(1);
}

export interface TestRedis {
  /** `redis://127.0.0.1:PORT`, for LOOKALIKE_REDIS_URL. */
  readonly url: string;
  readonly port: number;
  /** The server's process id (the benchmark reads its CPU time). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How long a fresh server may take to say it is ready (it takes milliseconds; the machine may be busy). */
const READY_TIMEOUT_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves once the server logs that it accepts connections; rejects with its output if it exits first. */
function whenReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => fail(new Error(`redis-server on port ${port} was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`)),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) done();
    };
    const onExit = (code: number | null) =>
      fail(new Error(`redis-server on port ${port} exited (${code}) before it was ready:\n${output}`));
    const cleanUp = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
    };
    const done = () => {
      cleanUp();
      resolve();
    };
    const fail = (error: Error) => {
      cleanUp();
      reject(error);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Starts a private Redis; another process may take the free port first, so a failed start is tried again. */
export async function startRedis(): Promise<TestRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = await tempDir("lookalike-redis-");
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    try {
      await whenReady(child, port);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      process.off("exit", killOnExit);
      continue;
    }
    child.stdout?.resume(); // keep draining its log so it never blocks on a full pipe
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: child.pid,
      async stop() {
        process.off("exit", killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      },
    };
  }
  throw lastError;
}
