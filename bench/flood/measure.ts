/**
 * One flood run on loopback: the fake Discord in this process, the real bot in a child process.
 * Idle `/similar` latency first (a few images indexed, nothing else going on), then N image posts
 * at R per second while `/similar` is asked again and again until every image is stored.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FakeDiscord, type RequestMatcher } from "../../test/support/fake-discord/index.ts";
import { BotProcess, type Memory, type StopResult } from "./bot-process.ts";
import type { FloodImages } from "./images.ts";
import { IndexCounter } from "./index-count.ts";
import { type PostingResult, postOne, postPaced } from "./poster.ts";
import { askSimilar, type Query, type QueryResult, querySeries } from "./queries.ts";

export interface FloodPlan {
  /** N: images posted in the flood. */
  readonly images: number;
  /** R: target posts per second. */
  readonly perSecond: number;
  /** Indexed before the baseline; the queries look for these. */
  readonly baselineImages: number;
  readonly idleQueries: number;
  /** Pause between one answer and the next question. */
  readonly gapMs: number;
  /** A query still unanswered after this counts as a timeout (the run goes on). */
  readonly queryTimeoutMs: number;
  /** Give up waiting for every image to be stored after this (reported as not drained). */
  readonly drainTimeoutMs: number;
}

export interface RssSample {
  /** Seconds since the flood started. */
  readonly t: number;
  readonly rssMiB: number;
}

export interface FloodMeasurement {
  readonly idle: QueryResult[];
  readonly flood: QueryResult[];
  readonly posting: PostingResult;
  /** Seconds from the first post until all N were stored; undefined if that never happened. */
  readonly drainSeconds: number | undefined;
  /** Flood images stored when the wait ended. */
  readonly stored: number;
  readonly memory: { readonly idle: Memory | undefined; readonly end: Memory | undefined; readonly samples: RssSample[] };
  /** Bot CPU seconds (all threads) from the first post until the drain wait ended. */
  readonly floodCpuSeconds: number;
  /** Messages and reactions the bot posted in channels during the flood: repost alerts. */
  readonly repostAlerts: number;
  readonly stop: StopResult | undefined;
}

const STARTUP_TIMEOUT_MS = 180_000;
const RSS_EVERY_MS = 500;
const CHANNELS = ["general", "photos", "memes"] as const;

export async function measureFlood(plan: FloodPlan, images: FloodImages, log: (line: string) => void): Promise<FloodMeasurement> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-flood-"));
  const fake = await FakeDiscord.start();
  const guild = fake.addGuild({ name: "Flood", channels: CHANNELS.map((name) => ({ name })) });
  const channelIds = CHANNELS.map((name) => guild.channel(name).id);
  const counter = new IndexCounter(dataDir, guild.id);
  let bot: BotProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    bot = await BotProcess.start(fake, dataDir);
    const running = bot;
    log(`flood: bot started (pid ${running.pid}), waiting for it to connect`);
    await running.whileRunning(fake.waitForIdentify({ timeoutMs: STARTUP_TIMEOUT_MS }));
    const ask = (query: Query, timeoutMs: number, phaseStart: number) =>
      running.whileRunning(askSimilar(fake, channelIds[0]!, query, timeoutMs, phaseStart));
    // Connected is not ready: commands answer once the bot's handlers and model are up.
    const probe: Query = { bytes: images.queries[0]!, originalMessageId: "" };
    const readyBy = performance.now() + STARTUP_TIMEOUT_MS;
    while ((await ask(probe, 10_000, 0)).outcome === "timeout") {
      if (performance.now() > readyBy) throw new Error(`the bot never answered /similar:\n${running.outputTail()}`);
    }

    log(`flood: indexing ${images.baseline.length} baseline images`);
    const queries: Query[] = [];
    for (const [i, image] of images.baseline.entries()) {
      queries.push({ bytes: images.queries[i]!, originalMessageId: await postOne(fake, channelIds[i % channelIds.length]!, image) });
    }
    const baseline = await running.whileRunning(counter.waitFor(queries.length, STARTUP_TIMEOUT_MS));
    if (baseline.at === undefined)
      throw new Error(`only ${baseline.rows} of ${queries.length} baseline images were indexed:\n${running.outputTail()}`);

    log(`flood: idle /similar × ${plan.idleQueries}`);
    await ask(queries[0]!, plan.queryTimeoutMs, 0); // warm-up, not counted (first search of the table)
    const series = (phaseStart: number, more: { count?: number; until?: () => boolean }) =>
      running.whileRunning(
        querySeries({ fake, channelId: channelIds[0]!, queries, timeoutMs: plan.queryTimeoutMs, gapMs: plan.gapMs, phaseStart, ...more }),
      );
    const idle = await series(performance.now(), { count: plan.idleQueries });
    const idleMemory = await running.memory();

    log(`flood: posting ${plan.images} images at ${plan.perSecond}/s`);
    const cursor = fake.requestCursor();
    const cpuBefore = await running.cpuSeconds();
    const floodStart = performance.now();
    const samples: RssSample[] = [];
    sampler = setInterval(() => {
      void running
        .memory()
        .then((memory) => memory && samples.push({ t: Math.round(performance.now() - floodStart) / 1000, rssMiB: memory.rssMiB }));
    }, RSS_EVERY_MS);
    let drainEnded = false;
    const drain = counter.waitFor(queries.length + plan.images, plan.drainTimeoutMs).finally(() => (drainEnded = true));
    const [posting, drained, flood] = await Promise.all([
      running.whileRunning(postPaced(fake, channelIds, images.flood, plan.perSecond, floodStart)),
      running.whileRunning(drain),
      series(floodStart, { until: () => drainEnded }),
    ]);
    const floodCpuSeconds = (await running.cpuSeconds()) - cpuBefore;
    clearInterval(sampler);
    const drainSeconds = drained.at === undefined ? undefined : (drained.at - floodStart) / 1000;
    log(
      `flood: ${drained.rows - queries.length} of ${plan.images} stored${drainSeconds === undefined ? " (drain timed out)" : ` after ${drainSeconds.toFixed(1)} s`}, ${flood.length} queries meanwhile`,
    );

    const endMemory = await running.memory();
    // A repost alert is a reply or log post (a channel message) or a reaction; /similar answers go
    // through the interaction webhook and are not counted.
    const sinceFlood = (matcher: RequestMatcher) => fake.findRequests(matcher).filter((request) => request.index >= cursor).length;
    const alerts = sinceFlood({ method: "POST", path: "/channels/:id/messages" }) + sinceFlood({ method: "PUT", path: /\/reactions\// });
    const stop = await bot.stop();
    bot = undefined;
    return {
      idle,
      flood,
      posting,
      drainSeconds,
      stored: drained.rows - queries.length,
      memory: { idle: idleMemory, end: endMemory, samples },
      floodCpuSeconds,
      repostAlerts: alerts,
      stop,
    };
  } finally {
    clearInterval(sampler);
    await bot?.stop();
    counter.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
