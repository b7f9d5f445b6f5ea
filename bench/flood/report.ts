/** The flood section's table: latency summaries of both phases, drain, memory. */
import { ratio, table } from "../lib/markdown.ts";
import { ms, percentile, round } from "../speed/stats.ts";
import type { FloodMeasurement, FloodPlan } from "./measure.ts";
import type { QueryResult } from "./queries.ts";

export interface LatencySummary {
  readonly queries: number;
  readonly answered: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly originalFirst: number;
  /** ms; a timeout counts as infinitely slow, so a p95 that lands on one says so. */
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export function summarise(results: readonly QueryResult[]): LatencySummary {
  const latencies = results.map((r) => r.ms ?? Number.POSITIVE_INFINITY);
  const count = (outcome: QueryResult["outcome"]) => results.filter((r) => r.outcome === outcome).length;
  return {
    queries: results.length,
    answered: count("answered"),
    errors: count("error"),
    timeouts: count("timeout"),
    originalFirst: results.filter((r) => r.originalFirst).length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
  };
}

export interface FloodReport {
  readonly plan: FloodPlan;
  readonly loadAtStart: number;
  readonly reusedSources: number;
  readonly idle: LatencySummary;
  readonly flood: LatencySummary;
  readonly run: FloodMeasurement;
}

const mib = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? "–" : `${Math.round(value)} MiB`);

export function render(report: FloodReport): string {
  const { plan, idle, flood, run } = report;
  const timeout = `> ${plan.queryTimeoutMs / 1000} s (timeout)`;
  const latency = (value: number) => (value === Number.POSITIVE_INFINITY ? timeout : `${ms(value)} ms`);
  const trio = (s: LatencySummary) => `${latency(s.p50)} / ${latency(s.p95)} / ${latency(s.max)}`;
  const outcomes = (s: LatencySummary) =>
    `${s.queries} queries: ${s.answered} answered, ${s.errors} errors, ${s.timeouts} timeouts; original ranked first in ${s.originalFirst}`;
  const slowdown = Number.isFinite(flood.p95) ? ratio(flood.p95, idle.p95) : `> ${ratio(plan.queryTimeoutMs, idle.p95)}`;
  const drain =
    run.drainSeconds === undefined
      ? `not drained: ${run.stored} of ${plan.images} stored after ${plan.drainTimeoutMs / 1000} s`
      : `${run.drainSeconds.toFixed(1)} s`;
  const rate = run.drainSeconds === undefined ? "–" : `${(plan.images / run.drainSeconds).toFixed(1)} images/s`;
  const postedIn = run.posting.lastMs / 1000;
  const drainWindow = run.drainSeconds ?? plan.drainTimeoutMs / 1000;
  const rows: [string, string][] = [
    [
      "Flood: images N, target rate R",
      `${plan.images} images at ${plan.perSecond}/s over 3 channels (achieved ${(run.posting.posted / postedIn).toFixed(1)}/s, last post at ${postedIn.toFixed(1)} s${run.posting.failed ? `, ${run.posting.failed} posts failed` : ""})`,
    ],
    ["Idle `/similar` p50 / p95 / max", trio(idle)],
    ["Idle queries", outcomes(idle)],
    ["During flood `/similar` p50 / p95 / max", trio(flood)],
    ["During flood queries", outcomes(flood)],
    ["Flood p95 / idle p95", slowdown],
    ["Drain time (first post → all N stored)", drain],
    ["Indexing rate (N / drain time)", rate],
    [
      "Bot CPU, first post → drained",
      `${run.floodCpuSeconds.toFixed(1)} s (${(run.floodCpuSeconds / drainWindow).toFixed(2)} cores on average)`,
    ],
    ["Bot peak RSS (VmHWM)", mib(run.memory.end?.peakMiB)],
    ["Bot RSS idle (before the flood) → at end", `${mib(run.memory.idle?.rssMiB)} → ${mib(run.memory.end?.rssMiB)}`],
    ["Repost alerts the bot posted during the flood", String(run.repostAlerts)],
    ["Load average (1 min) at start, 2 cores shared", String(report.loadAtStart)],
  ];
  return [
    "## `/similar` during an image flood",
    "",
    table(["", "value"], rows),
    "",
    `How measured: \`npm run bench -- --only flood\` (\`--quick\`: N = 60 at 20/s) starts the fake Discord ` +
      "(test/support/fake-discord) and the real bot as a child process (`src/bot/main.ts`, as `npm start`, shipped " +
      `defaults, the shared model), everything on loopback. ${plan.baselineImages} photos are posted and indexed first; ` +
      `idle latency is ${plan.idleQueries} \`/similar\` queries (after one warm-up), each a recompressed copy of one of them. ` +
      `Then N distinct photos (seeded crops of photo-pool-cc, the museum database and flowers, 768–1024 px JPEGs, ` +
      `prepared beforehand; ${report.reusedSources} reused a source) are posted at R per second round-robin over 3 channels, ` +
      `and from the first post until all of them are stored, \`/similar\` is asked one at a time, ${plan.gapMs} ms after the previous answer. ` +
      "Latency is invoke → the edit that carries the answer (the deferral does not count); a query unanswered after " +
      `${plan.queryTimeoutMs / 1000} s is a timeout and counts as slower than any answer in the percentiles. ` +
      "Stored images are counted by reading the bot's LanceDB table from the harness (read-only, every 100 ms). " +
      "RSS and CPU are the bot process's alone (/proc/<pid>/status, /proc/<pid>/stat). " +
      "Raw latencies (with start times) and RSS samples are in results.json.",
  ].join("\n");
}

/** Raw results for results.json: no Infinity (JSON has none), times rounded. */
export function rawQueries(results: readonly QueryResult[]) {
  return results.map((r) => ({ t: round(r.startMs / 1000, 2), ms: r.ms, outcome: r.outcome, originalFirst: r.originalFirst }));
}
