/**
 * The embedding queue against the in-process model, on the same images in the same run:
 *
 * - Throughput: images analysed per second the way `lookalike index` analyses them (32 in flight,
 *   results in order), by the in-process model (all cores) and through a private Redis by one
 *   `npm run worker` process (all cores), in alternating rounds, then by two workers (one core
 *   each). Writes are left out: they are the same rows either way (the speed section measures them).
 * - CPU per image in each mode, every process counted and each one's share (this one, Redis, the
 *   workers): on 2 shared cores the difference between a queue mode and in-process is what the
 *   queue costs per image, and unlike wall time it hardly moves when other work competes for the
 *   cores; the shares say where it goes.
 * - Round trip: images sent one at a time through one worker; each image's round trip minus the
 *   time the worker itself spent on it (from its log) is the latency the queue adds: reading and
 *   encoding the bytes, Redis both ways, the result's encoding and its event.
 *
 * `measureQueue` is callable on its own (a scale section can reuse it); section.ts renders it.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { mapOrdered } from "../../src/cli/concurrency.ts";
import { type ImageAnalyzer, LocalAnalyzer, vectorSpace } from "../../src/retrieval/analyzer.ts";
import { QueuedAnalyzer } from "../../src/retrieval/queue/queued-analyzer.ts";
import { startRedis } from "../../test/support/redis.ts";
import { startWorkerProcess, type WorkerProcess } from "../../test/support/worker-process.ts";
import { MODELS_DIR } from "../speed/datasets.ts";
import { load, median, percentile, round } from "../speed/stats.ts";

/** As `lookalike index` (src/cli/index-files.ts). */
export const IN_FLIGHT = 32;
export const WARM_UP = 8;
/** Alternating passes of the in-process model and one worker over the same files. */
export const ROUNDS = 3;

export interface QueuePlan {
  /** Images for each throughput run (the same files for every mode). */
  readonly files: readonly string[];
  /** Images sent one at a time for the round trip. */
  readonly roundTripImages: number;
}

export interface ThroughputRun {
  readonly mode: string;
  readonly images: number;
  /** Wall time of one pass, s (the mean over the passes). */
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** CPU time of every process involved (this one, workers, Redis) per image, ms. */
  readonly cpuMsPerImage: number;
  /** This process's share of that CPU time, ms per image. */
  readonly producerCpuMsPerImage: number;
  /** Redis's share, ms per image (0 in-process). */
  readonly redisCpuMsPerImage: number;
  /** The worker processes' share, ms per image (0 in-process). */
  readonly workerCpuMsPerImage: number;
  /** Passes over the files this mode's figures add up. */
  readonly passes: number;
  readonly load: number;
}

export interface QueueMeasurement {
  readonly throughput: readonly ThroughputRun[];
  /** CPU per image through one worker minus in-process, ms. */
  readonly cpuOverheadMs: number;
  /** Per-image round trip minus the worker's own time, ms. */
  readonly roundTripMs: { readonly median: number; readonly p95: number; readonly samples: readonly number[] };
  /** The worker's own time per image in the same sequential run, ms (for scale). */
  readonly workerMsMedian: number;
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) another process has used, from /proc; 0 where unreadable. */
async function cpuSecondsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS;
}

/** Other processes a mode runs on: Redis and the workers (none in-process). */
interface Processes {
  readonly redis?: number;
  readonly workers: readonly (number | undefined)[];
}

/** CPU seconds so far of this process, Redis and the workers. */
async function cpuSeconds(processes: Processes): Promise<{ own: number; redis: number; workers: number }> {
  const own = process.cpuUsage();
  const workers = await Promise.all(processes.workers.map(cpuSecondsOf));
  return {
    own: (own.user + own.system) / 1e6,
    redis: await cpuSecondsOf(processes.redis),
    workers: workers.reduce((a, b) => a + b, 0),
  };
}

/** One pass over the files; a mode's result adds its passes up (rounds alternate the modes). */
interface Pass {
  readonly seconds: number;
  readonly own: number;
  readonly redis: number;
  readonly workers: number;
  readonly load: number;
}

async function pass(analyzer: ImageAnalyzer, files: readonly string[], processes: Processes): Promise<Pass> {
  await Promise.all(files.slice(0, WARM_UP).map((file) => analyzer.analyze(file))); // JIT, ORT's first runs
  const before = await cpuSeconds(processes);
  const started = performance.now();
  await mapOrdered(
    files,
    IN_FLIGHT,
    (file) => analyzer.analyze(file),
    () => {},
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuSeconds(processes);
  return { seconds, own: after.own - before.own, redis: after.redis - before.redis, workers: after.workers - before.workers, load: load() };
}

function throughput(mode: string, passes: readonly Pass[], images: number): ThroughputRun {
  const total = (key: "seconds" | "own" | "redis" | "workers") => passes.reduce((sum, p) => sum + p[key], 0);
  const count = images * passes.length;
  const perImage = (seconds: number) => round((seconds * 1000) / count, 1);
  return {
    mode,
    images,
    passes: passes.length,
    seconds: round(total("seconds") / passes.length, 2),
    imagesPerSecond: round(count / total("seconds"), 1),
    cpuMsPerImage: perImage(total("own") + total("redis") + total("workers")),
    producerCpuMsPerImage: perImage(total("own")),
    redisCpuMsPerImage: perImage(total("redis")),
    workerCpuMsPerImage: perImage(total("workers")),
    load: round(Math.max(...passes.map((p) => p.load)), 2),
  };
}

/** Round trip minus the worker's own time, one image at a time. */
async function roundTrips(queue: QueuedAnalyzer, worker: WorkerProcess, files: readonly string[]) {
  const samples: number[] = [];
  const workerMs: number[] = [];
  for (const file of files) {
    const before = worker.durations.length;
    const started = performance.now();
    await queue.analyze(file);
    const roundTrip = performance.now() - started;
    // The worker logs the job just before it sends the result; its line may still be on its way.
    while (worker.durations.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    const own = worker.durations[before]!;
    workerMs.push(own);
    samples.push(round(roundTrip - own, 2));
  }
  return { samples, workerMs };
}

export async function measureQueue(plan: QueuePlan, log: (line: string) => void): Promise<QueueMeasurement> {
  const loadAtStart = load();
  const space = vectorSpace({});
  const local = await LocalAnalyzer.open({ modelsDir: MODELS_DIR, download: false });
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  const queue = await QueuedAnalyzer.open({ redisUrl: redis.url, space });
  // Throughput runs the workers as shipped (info: no line per image); the round trip needs each
  // image's own time from the worker's debug line, so it gets a worker of its own.
  const env = ({ threads, logLevel = "info" }: { threads?: number; logLevel?: string } = {}) => ({
    LOOKALIKE_REDIS_URL: redis.url,
    LOG_LEVEL: logLevel,
    ...(threads ? { LOOKALIKE_WORKER_THREADS: String(threads) } : {}),
  });
  const processes = (): Processes => ({ redis: redis.pid, workers: workers.map((worker) => worker.child.pid) });
  try {
    // In-process and one worker alternate, round by round, so that load from other work on the
    // machine falls on both alike; an idle worker process and Redis cost next to nothing meanwhile.
    workers.push(await startWorkerProcess(env()));
    const inProcess: Pass[] = [];
    const oneWorker: Pass[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      log(`queue: round ${round} of ${ROUNDS}: in-process model, then one worker process (all cores), ${plan.files.length} images each`);
      inProcess.push(await pass(local, plan.files, { workers: [] }));
      oneWorker.push(await pass(queue, plan.files, processes()));
    }
    await workers.pop()!.stop();
    log(`queue: round trip, ${plan.roundTripImages} images one at a time`);
    workers.push(await startWorkerProcess(env({ logLevel: "debug" })));
    const sequential = await roundTrips(queue, workers[0]!, plan.files.slice(0, plan.roundTripImages));
    await workers.pop()!.stop();

    log("queue: two worker processes (one core each)");
    workers.push(...(await Promise.all([startWorkerProcess(env({ threads: 1 })), startWorkerProcess(env({ threads: 1 }))])));
    const twoWorkers = [await pass(queue, plan.files, processes())];
    const runs = [
      throughput("in-process (1 process, all cores)", inProcess, plan.files.length),
      throughput("queue, 1 worker (all cores)", oneWorker, plan.files.length),
      throughput("queue, 2 workers (1 core each)", twoWorkers, plan.files.length),
    ];
    return {
      throughput: runs,
      cpuOverheadMs: round(runs[1]!.cpuMsPerImage - runs[0]!.cpuMsPerImage, 1),
      roundTripMs: {
        median: round(median(sequential.samples), 2),
        p95: round(percentile(sequential.samples, 95), 2),
        samples: sequential.samples,
      },
      workerMsMedian: round(median(sequential.workerMs), 1),
      loadAtStart,
      loadAtEnd: load(),
    };
  } finally {
    await local.close();
    await queue.close();
    await Promise.all(workers.map((worker) => worker.stop()));
    await redis.stop();
  }
}
