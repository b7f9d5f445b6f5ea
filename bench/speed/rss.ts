/**
 * Peak memory, measured in child processes so nothing else in the benchmark counts:
 * - an indexing run of the real CLI (`bin/lookalike.mjs index`, shipped defaults), peak RSS read
 *   from /proc/<pid>/status VmHWM while it runs (monotonic, so the last reading is the peak);
 * - a search process holding a large collection, and the index build (`maintain()`) at that size:
 *   `node --import tsx bench/speed/rss.ts search|maintain DIR COLLECTION DIMENSION [QUERIES]`,
 *   which report their own peak (VmHWM) themselves.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY } from "../../src/retrieval/store/index-policy.ts";
import { benchSpace, FILTER_CHANNEL } from "./populate.ts";
import { percentile } from "./stats.ts";
import { randomCentres } from "./synthetic.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

async function vmHwmKiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const match = status && /VmHWM:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) : undefined;
}

export interface ChildRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly seconds: number;
  /** Peak RSS from /proc polling (MiB); undefined where /proc is missing. */
  readonly peakMiB: number | undefined;
}

export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peak: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => {
      if (child.pid) void vmHwmKiB(child.pid).then((kib) => (peak = Math.max(peak ?? 0, kib ?? 0) || peak));
    }, 50);
    child.on("error", (error) => {
      clearInterval(poll);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(poll);
      resolve({
        stdout,
        stderr,
        code,
        seconds: (performance.now() - started) / 1000,
        peakMiB: peak === undefined ? undefined : peak / 1024,
      });
    });
  });
}

/** JSON printed on the last stdout line of a child. */
export function lastJson<T>(run: ChildRun): T {
  const line = run.stdout.trim().split("\n").at(-1);
  if (run.code !== 0 || !line) throw new Error(`child failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(line) as T;
}

export interface CliIndexResult {
  readonly indexed: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly peakMiB: number | undefined;
}

/** `lookalike index --json` over `folder` into a fresh database `dbDir`. */
export async function cliIndexRun(dbDir: string, folder: string, modelsDir: string): Promise<CliIndexResult> {
  const run = await runChild(process.execPath, [
    "bin/lookalike.mjs",
    "index",
    "--db",
    dbDir,
    "--collection",
    "bench",
    "--models-dir",
    modelsDir,
    "--no-download",
    "--json",
    folder,
  ]);
  const summary = lastJson<{ indexed: number; seconds: number; imagesPerSecond: number }>(run);
  return { ...summary, peakMiB: run.peakMiB };
}

export interface SearchProcessResult {
  readonly rows: number;
  readonly p50: number;
  readonly p95: number;
  readonly filteredP50: number;
  readonly maxRssMiB: number;
}

export interface MaintainProcessResult {
  readonly outcome: string;
  readonly seconds: number;
  readonly maxRssMiB: number;
}

export async function searchProcess(dir: string, collection: string, dimension: number, queries: number): Promise<SearchProcessResult> {
  return lastJson(
    await runChild(process.execPath, ["--import", "tsx", SELF, "search", dir, collection, String(dimension), String(queries)]),
  );
}

export async function maintainProcess(
  dir: string,
  collection: string,
  dimension: number,
): Promise<MaintainProcessResult & { peakMiB: number | undefined }> {
  const run = await runChild(process.execPath, ["--import", "tsx", SELF, "maintain", dir, collection, String(dimension)]);
  return { ...lastJson<MaintainProcessResult>(run), peakMiB: run.peakMiB };
}

/**
 * This process's peak RSS in MiB. VmHWM, not `process.resourceUsage().maxRSS`: Linux carries
 * ru_maxrss across fork + exec, so a child spawned by a big parent would report the parent's size.
 */
export async function peakRssMiB(): Promise<number> {
  return ((await vmHwmKiB(process.pid)) ?? process.resourceUsage().maxRSS) / 1024;
}

async function childMain(): Promise<void> {
  const [mode, dir, collection, dimension, count] = process.argv.slice(2);
  const store = await ImageStore.open(dir!, benchSpace(Number(dimension)), DEFAULT_INDEX_POLICY);
  const table = await store.collection(collection!);
  let result: unknown;
  if (mode === "maintain") {
    const started = performance.now();
    const outcome = await table.maintain();
    result = { outcome, seconds: (performance.now() - started) / 1000, maxRssMiB: await peakRssMiB() } satisfies MaintainProcessResult;
  } else {
    const queries = randomCentres(Number(count ?? 20), Number(dimension), 99);
    const all: number[] = [];
    const filtered: number[] = [];
    for (const query of queries) {
      let t = performance.now();
      await table.search(query, { k: 10 });
      all.push(performance.now() - t);
      t = performance.now();
      await table.search(query, { k: 10, filter: { channelIds: [FILTER_CHANNEL] } });
      filtered.push(performance.now() - t);
    }
    result = {
      rows: await table.count(),
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      filteredP50: percentile(filtered, 50),
      maxRssMiB: await peakRssMiB(),
    } satisfies SearchProcessResult;
  }
  store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] === SELF) await childMain();
