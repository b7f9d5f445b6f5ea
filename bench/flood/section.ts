/**
 * `/similar` latency while the bot indexes a flood of image posts, against its idle latency in the
 * same run, plus how long the flood takes to drain and the bot's memory. Everything runs on
 * loopback (fake Discord, real bot in a child process); see measure.ts for the method.
 */
import { timedLog } from "../lib/log.ts";
import type { BenchContext, BenchSection, SectionResult } from "../lib/section.ts";
import { load, round } from "../speed/stats.ts";
import { prepareImages } from "./images.ts";
import { type FloodPlan, measureFlood } from "./measure.ts";
import { type FloodReport, rawQueries, render, summarise } from "./report.ts";

export function floodPlan(quick: boolean): FloodPlan {
  const images = quick ? 60 : 300;
  return {
    images,
    perSecond: quick ? 20 : 50,
    baselineImages: 10,
    idleQueries: 10,
    gapMs: 500,
    // Generous: a /similar stuck behind the flood for many seconds is the problem being measured.
    queryTimeoutMs: 60_000,
    drainTimeoutMs: 120_000 + images * 2_000,
  };
}

export const floodSection: BenchSection = {
  async run(context: BenchContext): Promise<SectionResult> {
    const log = timedLog(context.log);
    const plan = floodPlan(context.quick);
    const loadAtStart = load();
    log(`flood: preparing ${plan.baselineImages} + ${plan.images} images`);
    const images = await prepareImages(plan.images, plan.baselineImages);
    const run = await measureFlood(plan, images, log);
    const report: FloodReport = {
      plan,
      loadAtStart,
      reusedSources: images.reusedSources,
      idle: summarise(run.idle),
      flood: summarise(run.flood),
      run,
    };
    const json = {
      plan,
      loadAtStart,
      loadAtEnd: load(),
      reusedSources: images.reusedSources,
      idle: { summary: report.idle, queries: rawQueries(run.idle) },
      flood: { summary: report.flood, queries: rawQueries(run.flood) },
      posting: run.posting,
      drainSeconds: run.drainSeconds === undefined ? null : round(run.drainSeconds, 2),
      imagesPerSecond: run.drainSeconds === undefined ? null : round(plan.images / run.drainSeconds, 2),
      stored: run.stored,
      floodCpuSeconds: round(run.floodCpuSeconds, 2),
      repostAlerts: run.repostAlerts,
      memory: run.memory,
      botStop: run.stop,
    };
    return { markdown: render(report), json };
  },
};
