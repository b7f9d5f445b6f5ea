/**
 * Issue 11, embedding workers: ingest through the Redis queue with one and two `npm run worker`
 * processes against the in-process model, and what the queue adds per image (measure.ts).
 */

import { DEFAULT_BATCH } from "../../src/retrieval/queue/batch.ts";
import { DEFAULT_WORKER_CONCURRENCY } from "../../src/retrieval/queue/settings.ts";
import { timedLog } from "../lib/log.ts";
import type { BenchContext, BenchSection, SectionResult } from "../lib/section.ts";
import { ingestFiles } from "../speed/ingest.ts";
import { IN_FLIGHT, measureQueue, type QueueMeasurement, ROUNDS, type ThroughputRun, WARM_UP } from "./measure.ts";

/** What issue 11 allows the queue to add per image. */
const OVERHEAD_BUDGET_MS = 2;

function render(m: QueueMeasurement, quick: boolean): string {
  const [local, oneWorker] = m.throughput as [ThroughputRun, ThroughputRun, ThroughputRun];
  const rows = m.throughput.map(
    (run) =>
      `| ${run.mode} | ${run.imagesPerSecond} | ${run.seconds} s | ×${(run.imagesPerSecond / local.imagesPerSecond).toFixed(2)} | ${run.cpuMsPerImage} ms | ${run.producerCpuMsPerImage} / ${run.redisCpuMsPerImage} / ${run.workerCpuMsPerImage} ms | ${run.passes} | ${run.load} |`,
  );
  const fromRates = 1000 / oneWorker.imagesPerSecond - 1000 / local.imagesPerSecond;
  return [
    "## Embedding workers (Redis queue)",
    "",
    "| mode | images/s | wall time per pass | vs in-process | CPU per image, all processes | of which this process / Redis / workers | passes | load (1 min, highest) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `What the queue costs per image (budget ${OVERHEAD_BUDGET_MS} ms): **${m.cpuOverheadMs} ms of CPU** (one worker against in-process, every process counted: ${m.cpuOverheadMs <= OVERHEAD_BUDGET_MS ? "within" : "over"} the budget; the worker's own share against in-process: ${(oneWorker.workerCpuMsPerImage - local.cpuMsPerImage).toFixed(1)} ms); ${fromRates.toFixed(1)} ms of wall time from the rates above (both on all cores; noisy on a shared machine). Latency, one image at a time through one worker logging each image's time at debug level (round trip minus the worker's own time): median ${m.roundTripMs.median} ms, p95 ${m.roundTripMs.p95} ms, against a median ${m.workerMsMedian} ms of work in the worker; that is waiting for Redis and the three processes to be scheduled, which grows with the machine's load.`,
    "",
    `How measured: \`npm run bench -- --only queue${quick ? " --quick" : ""}\`. ${local.images} images (photo-pool-cc photos, museum paintings, flower photos), analysed as \`lookalike index\` analyses them (${IN_FLIGHT} in flight, in order, no writes), after ${WARM_UP} warm-up images per pass, by the in-process model (\`LocalAnalyzer\`, all cores) and through a private \`redis-server\` on 127.0.0.1 (no persistence) by one \`npm run worker\` process (all cores, concurrency ${DEFAULT_WORKER_CONCURRENCY}, logging at info as shipped; jobs of up to ${DEFAULT_BATCH.images} images), alternating for ${ROUNDS} rounds so that other load falls on both alike, then by two workers (\`LOOKALIKE_WORKER_THREADS=1\` each). CPU is read from /proc for the workers and Redis and from \`process.cpuUsage\` for this process (the producer: reading, encoding, waiting for results). Everything shares the same 2 cores, so the queue modes pay for the producer, Redis and the workers on one machine; on separate machines the workers' cores add up. Load average at start ${m.loadAtStart}, at end ${m.loadAtEnd}: above 2, other work was competing for the cores and wall times are noisy.`,
  ].join("\n");
}

export const queueSection: BenchSection = {
  async run(context: BenchContext): Promise<SectionResult> {
    const log = timedLog(context.log);
    const all = await ingestFiles(context.quick);
    const files = context.quick ? all.slice(0, 120) : all;
    const measurement = await measureQueue({ files, roundTripImages: context.quick ? 20 : 60 }, log);
    return { markdown: render(measurement, context.quick), json: measurement };
  },
};
