/**
 * Issue 11, running at scale, measured in one run: search latency with the database on object
 * storage (s3rver) against a local folder (stores.ts), ingest through the Redis embedding queue
 * against the in-process model (the queue section's measurement, bench/queue/measure.ts), and the
 * bot's resident memory with a server of a million images (bot-db.ts, bot-rss.ts).
 */
import "../speed/quiet.ts";
import { timedLog } from "../lib/log.ts";
import type { BenchContext, BenchSection, SectionResult } from "../lib/section.ts";
import { measureQueue } from "../queue/measure.ts";
import { ingestFiles } from "../speed/ingest.ts";
import { load, round } from "../speed/stats.ts";
import { botDatabase } from "./bot-db.ts";
import { measureBotMemory } from "./bot-rss.ts";
import { type BotMemoryResult, render, type ScaleReport } from "./report.ts";
import { compareStores } from "./stores.ts";
import { embedScaleVectors } from "./vectors.ts";

export interface ScalePlan {
  /** Rows of the object-storage comparison (issue 11: 100k). */
  readonly storeRows: number;
  readonly coldOpens: number;
  /** Images per queue throughput run, and how many go one at a time for the round trip. */
  readonly queueImages: number | undefined;
  readonly roundTripImages: number;
  /** Server sizes the bot's memory is measured at, smallest first (issue 11: 1M). */
  readonly botRows: readonly number[];
  readonly searches: number;
  readonly moreSearches: number;
  /** The largest server again with these settings, in the same run: the baseline the shipped bot is compared with. */
  readonly baseline?: Readonly<Record<string, string>>;
}

/** LanceDB's own index cache (6 GB), instead of the bot's LOOKALIKE_INDEX_CACHE_MB default. */
const LANCEDB_DEFAULT_INDEX_CACHE = { LOOKALIKE_INDEX_CACHE_MB: "6144" } as const;

export function scalePlan(quick: boolean): ScalePlan {
  return quick
    ? { storeRows: 5_000, coldOpens: 3, queueImages: 48, roundTripImages: 10, botRows: [20_000], searches: 3, moreSearches: 0 }
    : // The smaller server first: the baseline the million is compared with.
      {
        storeRows: 100_000,
        coldOpens: 5,
        queueImages: undefined,
        roundTripImages: 60,
        botRows: [20_000, 1_000_000],
        searches: 5,
        moreSearches: 30,
        baseline: LANCEDB_DEFAULT_INDEX_CACHE,
      };
}

export const scaleSection: BenchSection = {
  async run(context: BenchContext): Promise<SectionResult> {
    const log = timedLog(context.log);
    const plan = scalePlan(context.quick);
    const command = `npm run bench -- --only scale${context.quick ? " --quick" : ""}`;
    const loadAtStart = load();

    const vectors = await embedScaleVectors(context.quick, log);
    const stores = await compareStores({
      rows: plan.storeRows,
      centres: vectors.centres,
      queries: vectors.queries,
      coldOpens: plan.coldOpens,
      log,
    });

    const files = await ingestFiles(context.quick);
    const queue = await measureQueue({ files: files.slice(0, plan.queueImages), roundTripImages: plan.roundTripImages }, log);

    const bot: BotMemoryResult[] = [];
    const runs = [
      ...plan.botRows.map((rows) => ({ rows, settings: {} })),
      ...(plan.baseline ? [{ rows: plan.botRows.at(-1)!, settings: plan.baseline }] : []),
    ];
    for (const { rows, settings } of runs) {
      // A run that fails is reported as such; the runs measured before it are kept.
      try {
        const database = await botDatabase(rows, vectors, log);
        bot.push(await measureBotMemory(database, { searches: plan.searches, moreSearches: plan.moreSearches, settings, log }));
      } catch (error) {
        log(`scale: ${rows} rows failed: ${error instanceof Error ? error.message : String(error)}`);
        bot.push({ rows, settings, error: error instanceof Error ? error.message : String(error) });
      }
    }

    const report: ScaleReport = {
      quick: context.quick,
      loadAtStart,
      loadAtEnd: load(),
      vectors: {
        centres: vectors.centres.length,
        queries: vectors.queries.length,
        dimension: vectors.space.dimension,
        seconds: round(vectors.seconds, 1),
      },
      stores,
      queue,
      bot,
    };
    return { markdown: render(report, command), json: { plan, ...report } };
  },
};
